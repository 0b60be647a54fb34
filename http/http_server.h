#pragma once
// A Boost.Beast HTTP/1.1 server (keep-alive) that hands each request to an
// asynchronous handler and goes back to its I/O loop; the response is
// written when the handler's responder is called, from any thread. Limits:
// body size, header size, one deadline per request (so a client trickling
// bytes is cut off), connections per remote address and in all, with a
// small reserve in which probes are still answered; one request at a time
// per connection (the next request is read only after the response is
// written).

#include "http/http_types.h"

#include <functional>
#include <memory>
#include <string>

namespace vigil::http {

struct server_settings {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;        ///< 0 = any free port
  int threads = 2;                   ///< I/O threads (handlers run on them)
  std::size_t body_limit_bytes = 1 << 20;
  int read_timeout_ms = 5'000;       ///< deadline for a whole request (headers and body) and for idle keep-alive
  int max_connections = 256;         ///< past this only /health and /ready are answered (see probe_reserve)
  int max_connections_per_client = 32;  ///< per remote address; past it 503 at once, nothing read
  /// Connections beyond max_connections that may still ask /health or /ready
  /// (read with a 1 s deadline, answered, closed); past those, 503 at once.
  int probe_reserve = 16;
};

/// Runs on an I/O thread: must not block. Calls the responder exactly once.
using request_handler = std::function<void(http_request, responder)>;

class http_server {
 public:
  /// Binds and starts serving. Throws std::runtime_error when the address
  /// cannot be bound. A responder may still be called after stop() (it is
  /// then dropped), but not after the server is destroyed.
  http_server(const server_settings& settings, request_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port (useful with port 0).
  unsigned short port() const;
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace vigil::http
