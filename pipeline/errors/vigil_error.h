#pragma once
// Vigil's own failures: one enum for every layer. Each adapter turns its
// library's failures into it (rdkafka, hiredis, XGBoost, nlohmann, CAF), and
// http/http_errors.cpp maps each code to exactly one HTTP status.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace vigil {

enum class vigil_errc : std::uint8_t {
  malformed_request = 1,  ///< not JSON, a bad query parameter or path segment
  unauthenticated,        ///< no credentials given
  forbidden,              ///< credentials given but wrong
  not_found,              ///< no such route or resource
  method_not_allowed,     ///< the route exists, the method does not
  payload_too_large,      ///< body or array beyond its limit
  unsupported_media_type, ///< a body that is not declared application/json
  invalid_field,          ///< well-formed but a field is invalid (details name it)
  overloaded,             ///< admission refused (bounded queue full): retry later
  pipeline_unavailable,   ///< an actor did not answer in time, or is gone
  store_unavailable,      ///< Kafka, Redis or the file system refused or timed out
  internal,               ///< a bug in Vigil
};

/// "invalid_field", ...: the name of the code, for logs and error bodies.
const char* to_string(vigil_errc code);

/// A failure that ends one operation. `details` is a JSON array of
/// {"field", "reason"} objects (empty when no field is to blame).
struct vigil_error : std::runtime_error {
  vigil_error(vigil_errc code, const std::string& message,
              nlohmann::json details = nlohmann::json::array())
    : std::runtime_error(message), code(code), details(std::move(details)) {}
  vigil_errc code;
  nlohmann::json details;
};

} // namespace vigil
