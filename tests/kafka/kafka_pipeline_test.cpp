// Against a real Kafka broker (KRaft) and a real redis-server, both started
// by tests/harness on free loopback ports: the end-to-end path and
// backpressure. The failure cases are in kafka_chaos_test.cpp.

#include "pipeline/connectors/kafka_record_source.h"
#include "actors/node/vigil_node.h"
#include "actors/pipeline/pipeline_topology.h"
#include "config/runtime_config.h"
#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"
#include "support/recording_publisher.h"
#include "support/test_registry.h"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>
#include <thread>

using namespace vigil;
using namespace vigil::testing;
using json = nlohmann::json;

TEST_CASE("end to end: N transactions in, N predictions out, bad records dead-lettered with reasons",
          "[integration][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("e2e-tx");
  testing::create_topic(svc.kafka, topic, 4);
  auto txs = simulated(topic + "/", 3'000, 21);
  auto records = as_records(txs);
  records.emplace_back("bad-1", "{not json");
  records.emplace_back("bad-2", R"({"transaction_id":"x","user_id":"u","amount":-5,"currency":"EUR",
    "merchant":{"id":"m","category":"grocery"},"timestamp":"2024-01-01T00:00:00Z","location":{"country":"DE"}})");
  records.emplace_back("bad-3", R"({"transaction_id":"y"})");
  // Stamped far past its own produce time: it would freeze u-future's state.
  records.emplace_back("bad-4", R"({"transaction_id":"z","user_id":"u-future","amount":5,"currency":"EUR",
    "merchant":{"id":"m","category":"grocery"},"timestamp":"9999-12-31T23:59:59Z","location":{"country":"DE"}})");
  records.emplace_back("bad-5", R"({"transaction_id":"w","transaction_id":"w2"})");
  testing::produce(svc.kafka, topic, records);

  auto c = in_process_node_config(topic, "e2e");
  c.snapshot_interval_ms = 500;
  actors::vigil_node node{c, ""};
  node.start();
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  CHECK(got.size() == txs.size());
  std::size_t copies = 0;
  for (const auto& [id, all] : got)
    copies += all.size();
  CHECK(copies == txs.size());  // each transaction_id exactly once
  const auto& sample = got.begin()->second.front();
  for (const char* field : {"transaction_id", "user_id", "probability", "decision", "reasons",
                            "model_version", "feature_snapshot_id", "latency_us", "source_time_ms",
                            "features"})
    CHECK(sample.contains(field));
  CHECK(sample["model_version"].get<int>() >= 1);

  // fraud_alerts carries exactly the flagged decisions (review or decline),
  // each with its reasons.
  std::set<std::string> flagged;
  for (const auto& [id, all] : got)
    if (all.front()["decision"] != "approve")
      flagged.insert(id);
  REQUIRE_FALSE(flagged.empty());
  std::map<std::string, json> alerts;
  testing::consume_until(
    svc.kafka, "fraud_alerts",
    [&](const std::vector<testing::kafka_record>& records) {
      for (const auto& r : records)
        if (r.key.rfind(topic + "/", 0) == 0)
          alerts[r.key] = json::parse(r.value);
      return alerts.size() >= flagged.size();
    },
    std::chrono::seconds(60));
  std::set<std::string> alerted;
  for (const auto& [id, alert] : alerts) {
    alerted.insert(id);
    CHECK_FALSE(alert["reasons"].empty());
  }
  CHECK(alerted == flagged);

  auto dead = testing::consume_until(svc.kafka, topic + ".dlq",
                                     [](const auto& r) { return r.size() >= 5; }, std::chrono::seconds(60));
  REQUIRE(dead.size() == 5);
  std::map<std::string, testing::kafka_record> by_key;
  for (auto& r : dead)
    by_key[r.key] = r;
  CHECK(by_key["bad-1"].value == "{not json");  // original bytes
  CHECK(by_key["bad-1"].headers["vigil-error"].rfind("$: malformed JSON", 0) == 0);
  CHECK(by_key["bad-2"].headers["vigil-error"] == "amount: must not be negative");
  CHECK(by_key["bad-3"].headers["vigil-error"].find("user_id: missing") != std::string::npos);
  CHECK(by_key["bad-3"].headers["vigil-origin"].rfind(topic + "/", 0) == 0);
  CHECK(by_key["bad-4"].headers["vigil-error"].find("timestamp: more than 300 s ahead of") == 0);
  CHECK(by_key["bad-5"].headers["vigil-error"] == "transaction_id: duplicate key");

  // Every metric the shipped alerting rules use is exported by a Kafka node.
  auto metrics = testing::http_call(node.http_port(), "GET", "/metrics").body;
  auto rules = file_text(std::string(VIGIL_SOURCE_DIR) + "/docker/alerts.yml");
  std::set<std::string> named;
  std::regex metric_name("vigil_[a-z0-9_]+");
  for (std::sregex_iterator it(rules.begin(), rules.end(), metric_name), end; it != end; ++it)
    named.insert(it->str());
  CHECK(named.size() >= 8);
  for (const auto& name : named) {
    INFO(name);
    CHECK(metrics.find("\n" + name) != std::string::npos);
  }

  node.stop();  // final checkpoint
  auto snap = stored_checkpoint(topic, topic, "e2e", 4);
  std::int64_t consumed = 0;
  for (const auto& [partition, offset] : snap.positions)
    consumed += offset;
  CHECK(snap.positions.size() == 4);
  CHECK(consumed == static_cast<std::int64_t>(records.size()));
}

TEST_CASE("a slow sink pauses the Kafka partitions, memory stays bounded, lag shows, then it catches up",
          "[integration][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("slow-tx");
  testing::create_topic(svc.kafka, topic, 2);
  auto txs = simulated(topic + "/", 3'000, 44);
  testing::produce(svc.kafka, topic, as_records(txs));

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  models::model_registry registry{testing::trained_registry()};
  auto config = std::make_shared<config::runtime_config>();
  config->batch_size = 50;
  config->max_in_flight_batches = 2;
  config->pause_input_after_ms = 20;  // shorter than the slow publisher's 30 ms
  auto publisher = std::make_shared<testing::recording_publisher>(std::chrono::milliseconds(30));
  auto source = std::make_shared<connectors::kafka_record_source>(svc.kafka, topic, topic, topic + ".dlq");
  auto& m = pipeline::metrics();
  auto& paused_ms = m.get_counter("vigil_source_paused_milliseconds_total", "");
  auto& paused = m.get_gauge("vigil_source_paused", "");
  auto& in_flight = m.get_gauge("vigil_in_flight_batches", "");
  auto& records_in = m.get_counter("vigil_records_in_total", "");
  auto& lag = m.get_gauge("vigil_consumer_lag_records", "");
  auto paused_before = paused_ms.value();
  auto in_before = records_in.value();
  in_flight.set(0);
  lag.set(0);
  auto handles = actors::start_pipeline(
    sys, {source, publisher, nullptr,
          models::load_scoring_model(registry, registry.production()->version), config, {}, nullptr});
  double max_in_flight = 0, max_lag = 0;
  bool saw_paused = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (records_in.value() - in_before < txs.size() && std::chrono::steady_clock::now() < deadline) {
    max_in_flight = std::max(max_in_flight, in_flight.value());
    max_lag = std::max(max_lag, lag.value());
    saw_paused = saw_paused || paused.value() > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  while (in_flight.value() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Caught up, the lag (reported at most once a second) comes back to 0.
  while (lag.value() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  actors::stop_pipeline(handles);
  handles = {};
  CHECK(records_in.value() - in_before == txs.size());   // caught up
  CHECK(saw_paused);                                      // partitions were paused...
  CHECK(paused_ms.value() > paused_before);               // ...and resumed
  CHECK(max_in_flight <= config->max_in_flight_batches);  // nothing queued past the credit
  CHECK(max_lag > 0);                                     // the paused input was behind...
  CHECK(max_lag <= static_cast<double>(txs.size()));      // ...by at most what the topic held
  CHECK(lag.value() == 0);                                // ...and caught up
}
