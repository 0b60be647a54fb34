// The Kafka broker killed with kill -9 mid-stream and started again on its
// own data 12 s later: the node neither crashes nor queues without bound,
// says it is not ready while the broker is gone, and afterwards has scored
// every transaction (duplicates identical by key) and applied each to state
// exactly once.

#include "actors/node/vigil_node.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vigil;
using namespace vigil::testing;

namespace {

// Polls /ready until it answers `status`, for at most `timeout`.
bool ready_becomes(unsigned short port, int status, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_call(port, "GET", "/ready").status == status)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

} // namespace

TEST_CASE("broker killed mid-stream and restarted on its data: not ready meanwhile, then every transaction "
          "scored and applied exactly once",
          "[chaos][kafka]") {
  const auto& svc = services();
  auto topic = unique("broker-kill");
  create_topic(svc.kafka, topic, 1);  // one partition: merchants replay exactly too
  auto txs = simulated(topic + "/", 12'000, 51);
  auto part = [&](std::size_t from, std::size_t to) {
    return as_records(std::vector<pipeline::transaction>(txs.begin() + from, txs.begin() + to));
  };
  auto c = in_process_node_config(topic, "broker");
  c.snapshot_interval_ms = 200;
  produce(svc.kafka, topic, part(0, 4'000));
  actors::vigil_node node{c, ""};
  node.start();
  auto port = node.http_port();
  predictions(topic + "/", 4'000, std::chrono::seconds(120));
  produce(svc.kafka, topic, part(4'000, 8'000));  // some of it in flight when the broker dies

  kill_kafka();
  CHECK(ready_becomes(port, 503, std::chrono::seconds(15)));
  // Nothing to read and nowhere to publish: credit runs out and holds.
  auto& in_flight = pipeline::metrics().get_gauge("vigil_in_flight_batches", "");
  std::this_thread::sleep_for(std::chrono::seconds(8));
  CHECK(in_flight.value() <= c.max_in_flight_batches);
  CHECK(http_call(port, "GET", "/health").status == 200);  // up all along
  start_kafka_again();
  CHECK(ready_becomes(port, 200, std::chrono::seconds(90)));

  produce(svc.kafka, topic, part(8'000, 12'000));
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(180));
  CHECK(got.size() == txs.size());  // none lost
  std::size_t duplicated = 0, differing = 0;
  for (const auto& [id, all] : got) {
    duplicated += all.size() > 1 ? 1 : 0;
    for (const auto& copy : all)
      differing += copy["probability"] != all.front()["probability"] ||
                   copy["feature_snapshot_id"] != all.front()["feature_snapshot_id"];
  }
  INFO("transactions published more than once: " << duplicated);
  CHECK(differing == 0);

  CHECK(wait_for_checkpoint(topic, topic, "broker", 1, txs.size(), std::chrono::seconds(60)));
  node.stop();
  auto snap = stored_checkpoint(topic, topic, "broker", 1);
  CHECK(snap.positions.at(0) == static_cast<std::int64_t>(txs.size()));
  auto replay = replay_topic(topic, txs.size());
  CHECK(snap.users.size() == replay.users().size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  CHECK(snap.merchants.size() == replay.merchants().size());
  CHECK(equal_states(snap.merchants, replay.merchants()) == replay.merchants().size());
}
