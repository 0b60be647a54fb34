// Reading back the newest records of a topic (a restarted node's decisions
// and labels) from a real broker.

#include "pipeline/connectors/kafka_topic_tail.h"
#include "models/serving/decision_json.h"
#include "pipeline/connectors/scored_history.h"
#include "support/kafka_harness.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include <unistd.h>

using namespace vigil;

TEST_CASE("the tail of a topic: the newest records of every partition, in offset order",
          "[integration][kafka]") {
  const auto& kafka = testing::services().kafka;
  auto topic = "tail-" + std::to_string(::getpid());
  testing::create_topic(kafka, topic, 3);
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 60; ++i)
    records.emplace_back("k" + std::to_string(i % 6), std::to_string(i));
  testing::produce(kafka, topic, records);

  auto everything = connectors::read_topic_tail(kafka, topic, 1'000, std::chrono::seconds(30));
  CHECK(everything.size() == 60);
  auto newest = connectors::read_topic_tail(kafka, topic, 9, std::chrono::seconds(30));
  REQUIRE(newest.size() == 9);  // 3 from each partition
  // Each value is a record number: the newest of each partition, ascending
  // within it, so they all come from the last records produced per key.
  std::size_t late = 0;
  for (const auto& value : newest)
    late += std::stoi(value) >= 40 ? 1 : 0;
  CHECK(late == 9);
  for (std::size_t i = 0; i + 1 < newest.size(); i += 3)
    CHECK(std::is_sorted(newest.begin() + static_cast<std::ptrdiff_t>(i),
                         newest.begin() + static_cast<std::ptrdiff_t>(i + 3),
                         [](const auto& a, const auto& b) { return std::stoi(a) < std::stoi(b); }));
  CHECK(connectors::read_topic_tail(kafka, topic + "-never-created", 10, std::chrono::seconds(30)).empty());

  // Decisions and labels as a Kafka node publishes them read back whole.
  models::decision_record d;
  d.transaction_id = topic + "/t";
  d.user_id = "u";
  d.merchant_id = "m";
  d.features[0] = 1.25f;
  testing::produce(kafka, topic + "-predictions", {{d.transaction_id, models::decision_to_json(d, true).dump()}});
  testing::produce(kafka, topic + "-labels",
                   {{d.transaction_id, R"({"transaction_id":")" + d.transaction_id + R"(","is_fraud":true})"}});
  std::atomic<bool> cancel{false};
  auto history = connectors::read_kafka_history(kafka, topic + "-predictions", topic + "-labels", 100, 100,
                                            std::chrono::seconds(30), cancel);
  REQUIRE(history.decisions.size() == 1);
  CHECK(history.decisions[0].features[0] == 1.25f);
  REQUIRE(history.labels.size() == 1);
  CHECK(history.labels[0].transaction_id == d.transaction_id);
}
