#pragma once
// The last hour of a node's headline figures, for the console's charts: a
// sample every `interval` of what changed since the previous one
// (throughput, decisions by outcome, decision latency p50/p99 of that
// interval, time paused, batches in flight, consumer lag), kept in a ring.
// Read from the metrics registry, which stays the one place they are
// written. Thread-safe; `start()` samples on its own thread.

#include "pipeline/metrics/metrics_registry.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

namespace vigil::pipeline {

struct metric_sample {
  std::int64_t time_ms = 0;  ///< wall clock at the end of the interval
  double seconds = 0;        ///< the interval's length
  double records_per_s = 0;
  double approve = 0, review = 0, decline = 0;  ///< decisions in the interval
  double p50_ms = 0, p99_ms = 0;  ///< decision latency of the interval (bucket upper bounds; 0 without decisions)
  double paused_share = 0;        ///< of the interval the source spent paused (backpressure), 0..1
  double in_flight_batches = 0;   ///< at the sample
  double lag_records = 0;         ///< consumer lag at the sample (0 embedded)
};

class metric_history {
 public:
  /// Samples `registry` every `interval`, keeping `keep` samples.
  metric_history(metrics_registry& registry, std::chrono::milliseconds interval, std::size_t keep);
  ~metric_history();

  /// Takes one sample now (the background thread calls it; tests too).
  void sample(std::int64_t now_ms, std::chrono::steady_clock::time_point now);
  /// Samples on a background thread until destroyed. The first sample only
  /// sets the baseline.
  void start();

  /// {"interval_s", "keep", "samples": [{"time", ...metric_sample}] oldest first}.
  nlohmann::json to_json() const;

 private:
  struct totals {
    double records = 0, approve = 0, review = 0, decline = 0, paused_ms = 0;
    std::array<std::uint64_t, histogram::bounds.size() + 1> latency{};
    std::chrono::steady_clock::time_point at{};
  };
  totals read_totals(std::chrono::steady_clock::time_point now);

  metrics_registry& registry_;
  std::chrono::milliseconds interval_;
  std::size_t keep_;
  mutable std::mutex mutex_;
  std::deque<metric_sample> samples_;
  bool have_previous_ = false;
  totals previous_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace vigil::pipeline
