#pragma once
// Transport-neutral request/response, so routing and handlers are testable
// without sockets and the Beast server stays a thin shell.

#include <functional>
#include <map>
#include <string>

namespace vigil::http {

struct http_request {
  std::string method;         ///< "GET", "POST", ...
  std::string path;           ///< without the query string
  std::map<std::string, std::string> query;
  std::string authorization;  ///< the Authorization header, "" when absent
  std::string content_type;   ///< the Content-Type header, "" when absent
  std::string body;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  int retry_after_s = 0;  ///< > 0: a Retry-After header (load shed)
};

/// Sends the response to one request. Call it exactly once, from any
/// thread; the connection reads its next request only after that.
using responder = std::function<void(http_response)>;

/// Splits "/predict?update=true&x=1" into path and query parameters
/// (percent-decoding values).
void split_target(const std::string& target, std::string& path,
                  std::map<std::string, std::string>& query);

} // namespace vigil::http
