#pragma once
// A TCP proxy that injects network faults between a client and a server,
// for chaos tests: latency, a bandwidth cap, connection resets and a black
// hole (nothing passes, in either direction, until it heals; bytes sent
// meanwhile wait in the sockets as on a partitioned network and flow once it
// heals). One thread, poll(2), loopback only.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace vigil::testing {

class fault_proxy {
 public:
  /// Listens on 127.0.0.1:`listen_port` (0: any free port) and forwards
  /// every connection to 127.0.0.1:`target_port`.
  explicit fault_proxy(int target_port, int listen_port = 0);
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// Every chunk is delivered this long after it was read.
  void set_latency(std::chrono::milliseconds latency);
  /// At most this many bytes per second per direction of each connection
  /// (0: unlimited).
  void set_bandwidth(std::size_t bytes_per_second);
  /// Resets every open connection (RST to both ends).
  void reset_connections();
  /// On: nothing is read, written or connected; off: heals (this and
  /// set_black_hole_from).
  void set_black_hole(bool on);
  /// A black hole for some clients only: connections from the
  /// `first_connection`-th accepted on (counted from 0, as connections()
  /// counts them), and any accepted later, pass nothing until
  /// set_black_hole(false).
  void set_black_hole_from(std::uint64_t first_connection);
  /// Connections accepted so far.
  std::uint64_t connections() const { return accepted_; }

 private:
  void run();

  int target_port_, port_ = 0, listen_fd_ = -1, wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false}, black_hole_{false}, reset_{false};
  std::atomic<std::int64_t> latency_ms_{0};
  std::atomic<std::size_t> bandwidth_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> hole_from_{~std::uint64_t{0}};
  std::thread thread_;
};

} // namespace vigil::testing
