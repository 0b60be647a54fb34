#include "support/fault_proxy.h"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::testing {
namespace {

using clock_type = std::chrono::steady_clock;

void non_blocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Bytes read from one end, waiting to be written to the other.
struct chunk {
  clock_type::time_point due;
  std::string bytes;
};

// One direction of a connection: read from `from`, written to `to`.
struct flow {
  int from = -1, to = -1;
  std::deque<chunk> queue;
  std::size_t queued = 0;
  bool from_closed = false;
  double tokens = 0;  ///< bandwidth budget in bytes
  clock_type::time_point refilled = clock_type::now();
};

struct connection {
  std::uint64_t number = 0;  ///< in accept order, from 0
  int client = -1, server = -1;
  bool connected = false;  ///< the connect to the server finished
  flow up, down;           ///< client -> server, server -> client
};

void close_fd(int& fd, bool reset) {
  if (fd < 0)
    return;
  if (reset) {
    linger l{1, 0};  // close with RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  ::close(fd);
  fd = -1;
}

} // namespace

fault_proxy::fault_proxy(int target_port, int listen_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(listen_port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("fault_proxy: cannot listen on port " + std::to_string(listen_port));
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  non_blocking(listen_fd_);
  if (::pipe(wake_) != 0)
    throw std::runtime_error("fault_proxy: pipe");
  non_blocking(wake_[0]);
  thread_ = std::thread([this] { run(); });
}

fault_proxy::~fault_proxy() {
  stopping_ = true;
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void fault_proxy::set_latency(std::chrono::milliseconds latency) { latency_ms_ = latency.count(); }
void fault_proxy::set_bandwidth(std::size_t bytes_per_second) { bandwidth_ = bytes_per_second; }
void fault_proxy::set_black_hole(bool on) {
  black_hole_ = on;
  if (!on)
    hole_from_ = std::numeric_limits<std::uint64_t>::max();
  (void)!::write(wake_[1], "x", 1);
}
void fault_proxy::set_black_hole_from(std::uint64_t first_connection) {
  hole_from_ = first_connection;
  (void)!::write(wake_[1], "x", 1);
}
void fault_proxy::reset_connections() {
  reset_ = true;
  (void)!::write(wake_[1], "x", 1);
}

void fault_proxy::run() {
  std::vector<std::unique_ptr<connection>> open;
  std::vector<char> buffer(64 * 1024);
  while (!stopping_) {
    if (reset_.exchange(false)) {
      for (auto& c : open) {
        close_fd(c->client, true);
        close_fd(c->server, true);
      }
      open.clear();
    }
    bool hole = black_hole_;
    const std::uint64_t hole_from = hole_from_;
    auto holed = [&](const connection& c) { return hole || c.number >= hole_from; };
    auto now = clock_type::now();
    // Writes that are due, within the bandwidth.
    auto next_due = now + std::chrono::milliseconds(20);
    auto limit = bandwidth_.load();
    for (auto& c : open) {
      for (flow* f : {&c->up, &c->down}) {
        if (holed(*c) || !c->connected || f->to < 0)
          continue;
        if (limit) {
          auto elapsed = std::chrono::duration<double>(now - f->refilled).count();
          f->tokens = std::min<double>(static_cast<double>(limit), f->tokens + elapsed * static_cast<double>(limit));
          f->refilled = now;
        }
        while (!f->queue.empty() && f->queue.front().due <= now) {
          auto& front = f->queue.front();
          auto allowed = limit ? std::min<std::size_t>(front.bytes.size(), static_cast<std::size_t>(f->tokens))
                               : front.bytes.size();
          if (allowed == 0)
            break;
          auto n = ::send(f->to, front.bytes.data(), allowed, MSG_NOSIGNAL);
          if (n <= 0)
            break;
          if (limit)
            f->tokens -= static_cast<double>(n);
          f->queued -= static_cast<std::size_t>(n);
          front.bytes.erase(0, static_cast<std::size_t>(n));
          if (front.bytes.empty())
            f->queue.pop_front();
        }
        if (!f->queue.empty())
          next_due = std::min(next_due, std::max(f->queue.front().due, now + std::chrono::milliseconds(1)));
        if (f->queue.empty() && f->from_closed && f->to >= 0)
          ::shutdown(f->to, SHUT_WR);
      }
    }
    // Poll: the wake pipe, the listener and every socket (none in a black hole).
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}};
    if (!hole)
      fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& c : open) {
      if (holed(*c))
        continue;
      short server_events = c->connected ? 0 : POLLOUT;
      // Read only while little waits for the other end: a slow reader
      // slows the writer down instead of filling memory.
      if (!c->up.from_closed && c->up.queued < (1 << 20))
        fds.push_back({c->client, POLLIN, 0});
      if (c->connected && !c->down.from_closed && c->down.queued < (1 << 20))
        server_events |= POLLIN;
      if (server_events)
        fds.push_back({c->server, server_events, 0});
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now).count();
    ::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(1, wait)));
    char drain[64];
    while (::read(wake_[0], drain, sizeof drain) > 0) {
    }
    if (black_hole_)
      continue;
    now = clock_type::now();
    auto due = now + std::chrono::milliseconds(latency_ms_.load());
    bool accepting = false;
    for (const auto& p : fds) {
      if (p.fd == wake_[0] || !p.revents)
        continue;
      if (p.fd == listen_fd_) {
        accepting = true;  // after the others: a closed socket's number may be reused
        continue;
      }
      for (auto& c : open) {
        if (p.fd == c->server && !c->connected && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
          int error = 0;
          socklen_t len = sizeof error;
          ::getsockopt(c->server, SOL_SOCKET, SO_ERROR, &error, &len);
          if (error) {  // the server refused: so does the proxy
            close_fd(c->client, true);
            close_fd(c->server, false);
          } else {
            c->connected = true;
          }
          continue;
        }
        for (flow* f : {&c->up, &c->down}) {
          if (p.fd != f->from || f->from < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          auto n = ::recv(f->from, buffer.data(), buffer.size(), 0);
          if (n > 0) {
            f->queue.push_back({due, std::string(buffer.data(), static_cast<std::size_t>(n))});
            f->queued += static_cast<std::size_t>(n);
          } else if (n == 0) {
            f->from_closed = true;
          } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            close_fd(c->client, true);
            close_fd(c->server, true);
          }
        }
      }
    }
    while (accepting) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0)
        break;
      non_blocking(client);
      auto c = std::make_unique<connection>();
      c->client = client;
      c->server = ::socket(AF_INET, SOCK_STREAM, 0);
      non_blocking(c->server);
      auto a = loopback(target_port_);
      ::connect(c->server, reinterpret_cast<sockaddr*>(&a), sizeof a);
      c->up.from = client;
      c->up.to = c->server;
      c->down.from = c->server;
      c->down.to = client;
      c->number = accepted_++;
      open.push_back(std::move(c));
    }
    // Forget connections closed on both sides, or broken.
    for (auto& c : open)
      if (c->client >= 0 && c->server >= 0 && c->up.from_closed && c->down.from_closed && c->up.queue.empty() &&
          c->down.queue.empty()) {
        close_fd(c->client, false);
        close_fd(c->server, false);
      }
    open.erase(std::remove_if(open.begin(), open.end(),
                              [](const auto& c) { return c->client < 0 || c->server < 0; }),
               open.end());
  }
  for (auto& c : open) {
    close_fd(c->client, true);
    close_fd(c->server, true);
  }
}

} // namespace vigil::testing
