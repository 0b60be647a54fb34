#pragma once
// The one place where failures become HTTP status codes and JSON bodies:
//   {"error": "<message>", "details": [...]}.

#include "http/http_types.h"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace vigil::http {

/// Thrown by handlers for a request that cannot be served; the status is
/// what the client sees (4xx for their fault, 5xx for ours).
struct http_error : std::runtime_error {
  http_error(int status, const std::string& message, nlohmann::json details = nlohmann::json::array())
    : std::runtime_error(message), status(status), details(std::move(details)) {}
  int status;
  nlohmann::json details;
};

http_response json_response(int status, const nlohmann::json& body);
http_response error_response(int status, const std::string& message,
                             const nlohmann::json& details = nlohmann::json::array());

} // namespace vigil::http
