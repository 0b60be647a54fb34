#pragma once
// Keeps the reachability of Kafka and Redis current on a thread of its
// own (a probe may block for seconds when a server is down), so GET /ready
// only reads the last answer and never waits.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace vigil::connectors {

class kafka_reachability;

class readiness_probe {
 public:
  /// Empty addresses are not probed (reported reachable). Probes once
  /// before returning, then every `interval_ms`.
  readiness_probe(std::string brokers, std::string redis, int interval_ms = 1000);
  ~readiness_probe();
  readiness_probe(const readiness_probe&) = delete;
  readiness_probe& operator=(const readiness_probe&) = delete;

  bool kafka() const { return kafka_.load(); }
  bool redis() const { return redis_.load(); }

 private:
  void probe();

  std::string brokers_, redis_address_;
  std::unique_ptr<kafka_reachability> kafka_probe_;  ///< one client for every probe
  std::atomic<bool> kafka_{false}, redis_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace vigil::connectors
