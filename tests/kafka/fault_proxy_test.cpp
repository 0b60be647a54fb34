// The chaos tests' fault-injecting proxy does what they rely on: bytes pass
// intact under latency and a bandwidth cap, a reset breaks every connection,
// and a black hole passes nothing until it heals, then everything.

#include "support/fault_proxy.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using vigil::testing::fault_proxy;

namespace {

// Echoes every connection's bytes back, one thread per connection.
class echo_server {
 public:
  echo_server() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0 || stopping_)
          break;
        std::thread([c] {
          char buf[4096];
          for (ssize_t n; (n = ::recv(c, buf, sizeof buf, 0)) > 0;)
            ::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
          ::close(c);
        }).detach();
      }
    });
  }
  ~echo_server() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Reads `n` bytes, or fewer when the connection ends or `timeout_ms` passes
// without any.
std::string read_bytes(int fd, std::size_t n, int timeout_ms) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
      break;
    auto got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got <= 0)
      break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}

} // namespace

TEST_CASE("the fault proxy passes bytes intact under latency and a bandwidth cap", "[unit][harness]") {
  echo_server echo;
  fault_proxy proxy(echo.port());
  proxy.set_latency(std::chrono::milliseconds(20));
  proxy.set_bandwidth(400'000);
  int fd = connect_to(proxy.port());
  std::string sent;
  for (int i = 0; i < 100'000; ++i)
    sent += static_cast<char>('a' + i % 26);
  std::thread writer([&] { ::send(fd, sent.data(), sent.size(), MSG_NOSIGNAL); });
  auto got = read_bytes(fd, sent.size(), 5000);
  writer.join();
  CHECK(got == sent);
  CHECK(proxy.connections() == 1);
  ::close(fd);
}

TEST_CASE("the fault proxy resets connections and black-holes until healed", "[unit][harness]") {
  echo_server echo;
  fault_proxy proxy(echo.port());
  int fd = connect_to(proxy.port());
  ::send(fd, "ping", 4, MSG_NOSIGNAL);
  CHECK(read_bytes(fd, 4, 5000) == "ping");
  proxy.reset_connections();
  CHECK(read_bytes(fd, 1, 5000).empty());  // ended, not answered
  ::close(fd);

  fd = connect_to(proxy.port());
  CHECK(read_bytes(fd, 0, 0).empty());
  proxy.set_black_hole(true);
  ::send(fd, "pong", 4, MSG_NOSIGNAL);
  CHECK(read_bytes(fd, 4, 300).empty());  // nothing passes
  proxy.set_black_hole(false);
  CHECK(read_bytes(fd, 4, 5000) == "pong");  // healed: what waited flows
  ::close(fd);
}

TEST_CASE("the fault proxy black-holes the connections from one on, and later ones, leaving earlier ones be",
          "[unit][harness]") {
  echo_server echo;
  fault_proxy proxy(echo.port());
  int first = connect_to(proxy.port());
  ::send(first, "a", 1, MSG_NOSIGNAL);
  REQUIRE(read_bytes(first, 1, 5000) == "a");  // accepted before the hole is set
  int second = connect_to(proxy.port());
  ::send(second, "b", 1, MSG_NOSIGNAL);
  REQUIRE(read_bytes(second, 1, 5000) == "b");
  proxy.set_black_hole_from(1);
  int third = connect_to(proxy.port());  // accepted (the kernel's backlog) but passes nothing
  for (int fd : {first, second, third})
    ::send(fd, "x", 1, MSG_NOSIGNAL);
  CHECK(read_bytes(first, 1, 2000) == "x");
  CHECK(read_bytes(second, 1, 300).empty());
  CHECK(read_bytes(third, 1, 300).empty());
  proxy.set_black_hole(false);  // heals
  CHECK(read_bytes(second, 1, 5000) == "x");
  CHECK(read_bytes(third, 1, 5000) == "x");
  for (int fd : {first, second, third})
    ::close(fd);
}
