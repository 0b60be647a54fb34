#pragma once
// What every route handler needs to read a request: the strict JSON body,
// the bearer token check, path versions. Each throws vigil_error naming
// what is wrong; route() turns it into the response.

#include "http/http_types.h"
#include "http/node_api.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace vigil::http {

/// "application/json", any case, optionally with parameters ("; charset=utf-8").
bool declares_json(const std::string& content_type);
/// The body as JSON, parsed strictly (a duplicate key is refused). Errors:
/// unsupported_media_type, malformed_request, invalid_field.
nlohmann::json parse_body(const http_request& r);
/// Errors: unauthenticated (no token), forbidden (a wrong one).
void require_token(const http_request& r, node_api& node);
/// A path segment holding a version: digits only, 1 to 1,000,000,000.
/// `what` names it in the error (malformed_request).
int parse_version(const std::string& text, const char* what);
/// Wall clock, ms since 1970.
std::int64_t now_ms();
/// Answers the node's outcome as JSON with `status`, or as its error.
json_continuation answer_json(responder respond, int status);

} // namespace vigil::http
