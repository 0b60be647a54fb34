// One client must not lock everyone else out: connections are limited per
// remote address, a request has one deadline however slowly it trickles,
// and a full server still answers its probes. Clients bind to distinct
// loopback addresses (127.0.0.x) to act as distinct machines.

#include "http/http_server.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace vigil::http;

namespace {

// A TCP connection from `from` (a loopback address) to the server.
class client_socket {
 public:
  client_socket(const char* from, unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
  }
  ~client_socket() { ::close(fd_); }
  client_socket(const client_socket&) = delete;

  bool send(const std::string& bytes) { return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) >= 0; }
  /// Everything the server sends until it closes, or until `wait_ms` of silence.
  std::string read_all(int wait_ms) {
    std::string out;
    char buf[4096];
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, wait_ms) > 0) {
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  /// True when the server has closed its side (a read returns end of stream).
  bool closed_by_server(int wait_ms) {
    pollfd p{fd_, POLLIN, 0};
    char c;
    return ::poll(&p, 1, wait_ms) > 0 && ::recv(fd_, &c, 1, MSG_PEEK) <= 0;
  }

 private:
  int fd_;
};

std::string get(const char* path) {
  return std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

struct limited_server {
  http_server server;
  explicit limited_server(const server_settings& s)
    : server(s, [](http_request r, responder respond) { respond({200, "text/plain", r.path}); }) {}
  int status(const char* from, const char* path) {
    client_socket c{from, server.port()};
    c.send(get(path));
    return status_of(c.read_all(2'000));
  }
};

server_settings small_limits() {
  server_settings s;
  s.port = 0;
  s.max_connections = 8;
  s.max_connections_per_client = 4;
  s.probe_reserve = 2;
  s.read_timeout_ms = 20'000;  // the holders must outlive each test
  return s;
}

} // namespace

TEST_CASE("one address cannot take more than its share of connections", "[unit][http][security]") {
  limited_server s{small_limits()};
  std::vector<std::unique_ptr<client_socket>> attacker;
  for (int i = 0; i < 4; ++i) {
    attacker.push_back(std::make_unique<client_socket>("127.0.0.2", s.server.port()));
    attacker.back()->send("GET /hea");  // never finished
  }
  // The fifth from the same address is answered 503 at once, without a byte sent.
  client_socket fifth{"127.0.0.2", s.server.port()};
  auto refused = fifth.read_all(2'000);
  CHECK(status_of(refused) == 503);
  CHECK(refused.find("Retry-After: 1") != std::string::npos);
  // Everyone else is served as usual.
  CHECK(s.status("127.0.0.1", "/predict") == 200);
  CHECK(s.status("127.0.0.3", "/health") == 200);
}

TEST_CASE("a full server still answers /health and /ready, and only those", "[unit][http][security]") {
  limited_server s{small_limits()};
  std::vector<std::unique_ptr<client_socket>> holders;
  for (const char* from : {"127.0.0.2", "127.0.0.3"})
    for (int i = 0; i < 4; ++i) {
      holders.push_back(std::make_unique<client_socket>(from, s.server.port()));
      holders.back()->send("GET /x");
    }
  CHECK(s.status("127.0.0.1", "/health") == 200);
  CHECK(s.status("127.0.0.1", "/ready") == 200);
  CHECK(s.status("127.0.0.1", "/predict") == 503);
}

TEST_CASE("a request trickled a byte at a time is cut off at its deadline", "[unit][http][security]") {
  auto settings = small_limits();
  settings.read_timeout_ms = 300;
  limited_server s{settings};
  client_socket slow{"127.0.0.2", s.server.port()};
  // 100 bytes at 50 ms each would take 5 s: far past the 300 ms deadline.
  std::string request = "GET /health HTTP/1.1\r\nX-Padding: " + std::string(60, 'a');
  bool cut_off = false;
  for (char c : request) {
    if (slow.closed_by_server(50)) {
      cut_off = true;
      break;
    }
    slow.send(std::string(1, c));
  }
  CHECK(cut_off);
  CHECK(s.status("127.0.0.2", "/health") == 200);  // its slot was given back
}
