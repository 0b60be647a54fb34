#include "http/http_errors.h"
#include "http/http_types.h"

namespace vigil::http {
namespace {

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

} // namespace

void split_target(const std::string& target, std::string& path,
                  std::map<std::string, std::string>& query) {
  auto q = target.find('?');
  path = target.substr(0, q);
  if (q == std::string::npos)
    return;
  std::string rest = target.substr(q + 1);
  std::size_t start = 0;
  while (start <= rest.size()) {
    auto amp = rest.find('&', start);
    auto item = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!item.empty()) {
      auto eq = item.find('=');
      query[percent_decode(item.substr(0, eq))] =
        eq == std::string::npos ? "" : percent_decode(item.substr(eq + 1));
    }
    if (amp == std::string::npos)
      break;
    start = amp + 1;
  }
}

http_response json_response(int status, const nlohmann::json& body) {
  // Client text (paths, ids) may carry invalid UTF-8: replace, never throw.
  return {status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

int http_status(vigil_errc code) {
  switch (code) {
    case vigil_errc::malformed_request: return 400;
    case vigil_errc::unauthenticated: return 401;
    case vigil_errc::forbidden: return 403;
    case vigil_errc::not_found: return 404;
    case vigil_errc::method_not_allowed: return 405;
    case vigil_errc::payload_too_large: return 413;
    case vigil_errc::unsupported_media_type: return 415;
    case vigil_errc::invalid_field: return 422;
    case vigil_errc::overloaded: return 503;
    case vigil_errc::pipeline_unavailable: return 503;
    case vigil_errc::store_unavailable: return 503;
    case vigil_errc::internal: return 500;
  }
  return 500;
}

http_response error_response(vigil_errc code, const std::string& message,
                             const nlohmann::json& details) {
  auto r = json_response(http_status(code), {{"error", message}, {"code", to_string(code)}, {"details", details}});
  if (code == vigil_errc::overloaded)
    r.retry_after_s = 1;
  return r;
}

http_response error_response(const vigil_error& error) {
  return error_response(error.code, error.what(), error.details);
}

} // namespace vigil::http
