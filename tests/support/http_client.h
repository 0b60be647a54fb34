#pragma once
// A blocking HTTP/1.1 client for loopback tests (one connection per call).

#include <string>

namespace vigil::testing {

struct client_response {
  int status = 0;
  std::string content_type;
  std::string body;
};

client_response http_call(unsigned short port, const std::string& method, const std::string& target,
                          const std::string& body = "", const std::string& bearer = "");

/// Writes raw bytes, returns whatever the server answers (until close or 2 s).
std::string raw_exchange(unsigned short port, const std::string& bytes);

} // namespace vigil::testing
