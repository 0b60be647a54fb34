#include "http/request_parsing.h"

#include "config/token_file.h"
#include "http/http_errors.h"
#include "pipeline/schema/strict_json.h"

#include <algorithm>
#include <chrono>

namespace vigil::http {

using json = nlohmann::json;

bool declares_json(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.pop_back();
  std::transform(media.begin(), media.end(), media.begin(), [](unsigned char c) { return std::tolower(c); });
  return media == "application/json";
}

// Strict: a duplicate key is refused rather than resolved, so no two
// readers of one request can disagree about it.
json parse_body(const http_request& r) {
  if (!declares_json(r.content_type))
    throw vigil_error(vigil_errc::unsupported_media_type,
                      "Content-Type must be application/json, got '" + r.content_type + "'");
  if (r.body.empty())
    throw vigil_error(vigil_errc::malformed_request, "request body is empty; expected JSON");
  json j;
  auto parsed = pipeline::parse_strict_json(r.body, j);
  if (parsed.ok)
    return j;
  if (parsed.field == "$")
    throw vigil_error(vigil_errc::malformed_request, "request body is not valid JSON: " + parsed.reason);
  throw vigil_error(vigil_errc::invalid_field, "validation failed",
                    json::array({{{"field", parsed.field}, {"reason", parsed.reason}}}));
}

void require_token(const http_request& r, node_api& node) {
  const std::string prefix = "Bearer ";
  if (r.authorization.empty())
    throw vigil_error(vigil_errc::unauthenticated, "missing bearer token");
  if (r.authorization.compare(0, prefix.size(), prefix) != 0 ||
      !config::same_secret(r.authorization.substr(prefix.size()), node.auth_token()))
    throw vigil_error(vigil_errc::forbidden, "invalid bearer token");
}

int parse_version(const std::string& text, const char* what) {
  bool digits = !text.empty() && text.size() <= 10 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  long long v = digits ? std::stoll(text) : 0;
  if (v < 1 || v > 1'000'000'000)
    throw vigil_error(vigil_errc::malformed_request,
                      std::string(what) + " must be a positive integer, got '" + text + "'");
  return static_cast<int>(v);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

json_continuation answer_json(responder respond, int status) {
  return [respond = std::move(respond), status](outcome<json> result) {
    if (auto* e = std::get_if<vigil_error>(&result))
      return respond(error_response(*e));
    respond(json_response(status, std::get<json>(result)));
  };
}

} // namespace vigil::http
