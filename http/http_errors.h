#pragma once
// The one place where failures become HTTP status codes and JSON bodies:
//   {"error": "<message>", "code": "<vigil_errc>", "details": [...]}.

#include "http/http_types.h"
#include "pipeline/errors/vigil_error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil::http {

/// The status every response with this error code gets (the one table).
int http_status(vigil_errc code);

http_response json_response(int status, const nlohmann::json& body);
http_response error_response(vigil_errc code, const std::string& message,
                             const nlohmann::json& details = nlohmann::json::array());
http_response error_response(const vigil_error& error);

} // namespace vigil::http
