// The console's last hour: what each sample says about its own interval.

#include "pipeline/metrics/metric_history.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil::pipeline;

TEST_CASE("each sample holds its interval's rates and latency, and the ring keeps the newest", "[unit][metrics]") {
  metrics_registry registry;
  metric_history history(registry, std::chrono::seconds(10), 2);
  auto t0 = std::chrono::steady_clock::now();
  auto& records = registry.get_counter("vigil_records_in_total", "");
  auto& review = registry.get_counter("vigil_decisions_total{decision=\"review\"}", "");
  auto& latency = registry.get_histogram("vigil_decision_latency_seconds", "");
  auto& paused = registry.get_counter("vigil_source_paused_milliseconds_total", "");
  for (int i = 0; i < 100; ++i)
    latency.observe(2.0);  // before the first sample: not in any interval
  records.add(50);
  history.sample(1000, t0);  // the baseline only
  CHECK(history.to_json()["samples"].empty());

  records.add(200);
  review.add(7);
  paused.add(2500);
  for (int i = 0; i < 99; ++i)
    latency.observe(0.0008);
  latency.observe(0.02);
  registry.get_gauge("vigil_consumer_lag_records", "").set(42);
  history.sample(11000, t0 + std::chrono::seconds(10));
  auto s = history.to_json()["samples"][0];
  CHECK(s["records_per_s"] == Approx(20));
  CHECK(s["review"] == 7);
  CHECK(s["approve"] == 0);
  CHECK(s["p50_ms"] == Approx(1.0));   // the 1 ms bucket, not the earlier 2.5 s ones
  CHECK(s["p99_ms"] == Approx(25.0));
  CHECK(s["paused_share"] == Approx(0.25));
  CHECK(s["lag_records"] == 42);
  CHECK(s["time"] == "1970-01-01T00:00:11.000Z");

  history.sample(21000, t0 + std::chrono::seconds(20));
  history.sample(31000, t0 + std::chrono::seconds(30));
  auto all = history.to_json()["samples"];
  REQUIRE(all.size() == 2);
  CHECK(all[0]["time"] == "1970-01-01T00:00:21.000Z");
  CHECK(all[1]["records_per_s"] == 0);
  CHECK(all[1]["p99_ms"] == 0);  // no decisions in that interval
}
