#include "pipeline/metrics/metric_history.h"

#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace vigil::pipeline {
namespace {

// The upper bound of the bucket holding quantile `q` of these counts, ms.
double quantile_ms(const std::array<std::uint64_t, histogram::bounds.size() + 1>& counts, double q) {
  std::uint64_t total = 0;
  for (auto c : counts)
    total += c;
  if (total == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen > rank)
      return 1000 * histogram::bounds[std::min(i, histogram::bounds.size() - 1)];
  }
  return 1000 * histogram::bounds.back();
}

} // namespace

metric_history::metric_history(metrics_registry& registry, std::chrono::milliseconds interval, std::size_t keep)
    : registry_(registry), interval_(interval), keep_(keep) {}

metric_history::~metric_history() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

metric_history::totals metric_history::read_totals(std::chrono::steady_clock::time_point now) {
  totals t;
  t.records = registry_.value_of("vigil_records_in_total");
  t.approve = registry_.value_of("vigil_decisions_total{decision=\"approve\"}");
  t.review = registry_.value_of("vigil_decisions_total{decision=\"review\"}");
  t.decline = registry_.value_of("vigil_decisions_total{decision=\"decline\"}");
  t.paused_ms = registry_.value_of("vigil_source_paused_milliseconds_total");
  t.latency = registry_.buckets_of("vigil_decision_latency_seconds");
  t.at = now;
  return t;
}

void metric_history::sample(std::int64_t now_ms, std::chrono::steady_clock::time_point now) {
  auto t = read_totals(now);
  std::lock_guard<std::mutex> lock(mutex_);
  if (have_previous_ && t.at > previous_.at) {
    metric_sample s;
    s.time_ms = now_ms;
    s.seconds = std::chrono::duration<double>(t.at - previous_.at).count();
    // Counters only grow; max() guards a registry the tests reset.
    auto delta = [](double now_value, double before) { return std::max(0.0, now_value - before); };
    s.records_per_s = delta(t.records, previous_.records) / s.seconds;
    s.approve = delta(t.approve, previous_.approve);
    s.review = delta(t.review, previous_.review);
    s.decline = delta(t.decline, previous_.decline);
    std::array<std::uint64_t, histogram::bounds.size() + 1> interval_latency{};
    for (std::size_t i = 0; i < interval_latency.size(); ++i)
      interval_latency[i] = t.latency[i] >= previous_.latency[i] ? t.latency[i] - previous_.latency[i] : 0;
    s.p50_ms = quantile_ms(interval_latency, 0.5);
    s.p99_ms = quantile_ms(interval_latency, 0.99);
    s.paused_share = std::min(1.0, delta(t.paused_ms, previous_.paused_ms) / 1000 / s.seconds);
    s.in_flight_batches = registry_.value_of("vigil_in_flight_batches");
    s.lag_records = registry_.value_of("vigil_consumer_lag_records");
    samples_.push_back(s);
    while (samples_.size() > keep_)
      samples_.pop_front();
  }
  previous_ = t;
  have_previous_ = true;
}

void metric_history::start() {
  thread_ = std::thread([this] {
    auto wall_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
    };
    sample(wall_ms(), std::chrono::steady_clock::now());
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      sample(wall_ms(), std::chrono::steady_clock::now());
      lock.lock();
    }
  });
}

nlohmann::json metric_history::to_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto samples = nlohmann::json::array();
  for (const auto& s : samples_)
    samples.push_back({{"time", format_iso8601_ms(s.time_ms)}, {"seconds", s.seconds},
                       {"records_per_s", s.records_per_s}, {"approve", s.approve}, {"review", s.review},
                       {"decline", s.decline}, {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms},
                       {"paused_share", s.paused_share}, {"in_flight_batches", s.in_flight_batches},
                       {"lag_records", s.lag_records}});
  return {{"interval_s", std::chrono::duration<double>(interval_).count()}, {"keep", keep_},
          {"samples", std::move(samples)}};
}

} // namespace vigil::pipeline
