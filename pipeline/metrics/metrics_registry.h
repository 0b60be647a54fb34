#pragma once
// Process-wide counters, gauges and latency histograms, rendered in the
// Prometheus text format. Lock-free on the hot path (relaxed atomics).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace vigil::pipeline {

class counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Latency histogram with fixed bucket bounds in seconds (50 us .. 10 s).
class histogram {
 public:
  static constexpr std::array<double, 16> bounds = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0};
  void observe(double seconds);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// Observations per bucket (the last one above every bound).
  std::array<std::uint64_t, bounds.size() + 1> bucket_counts() const;
  /// Approximate quantile (upper bound of the bucket holding it), seconds.
  double quantile(double q) const;
  std::string render(const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

/// Named metrics; names may carry Prometheus labels: `vigil_decisions_total{decision="review"}`.
class metrics_registry {
 public:
  counter& get_counter(const std::string& name, const std::string& help);
  gauge& get_gauge(const std::string& name, const std::string& help);
  histogram& get_histogram(const std::string& name, const std::string& help);
  /// The value of a counter or gauge, 0 when nothing wrote it yet (for
  /// reports; never creates it).
  double value_of(const std::string& name) const;
  /// The histogram's buckets, all 0 when nothing wrote it yet.
  std::array<std::uint64_t, histogram::bounds.size() + 1> buckets_of(const std::string& name) const;
  /// Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  struct entry {
    std::string help, type;
    std::unique_ptr<counter> c;
    std::unique_ptr<gauge> g;
    std::unique_ptr<histogram> h;
  };
  /// The metric in `slot` of entry `name`, created on first use.
  template <class Metric>
  Metric& get(std::unique_ptr<Metric> entry::*slot, const std::string& name,
              const std::string& help, const char* type);
  mutable std::mutex mutex_;
  std::map<std::string, entry> entries_;
};

/// The registry of this process.
metrics_registry& metrics();

} // namespace vigil::pipeline
