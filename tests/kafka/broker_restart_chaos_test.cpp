// The Kafka broker killed with kill -9 mid-stream and started again on its
// own data 12 s later: the node neither crashes nor queues without bound,
// says it is not ready while the broker is gone, and afterwards has scored
// every transaction and applied each to user and merchant state exactly
// once (see check_exactly_once_after_fault), whether or not the group
// expired the assignment meanwhile.

#include "actors/node/vigil_node.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vigil;
using namespace vigil::testing;

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
  auto& released = pipeline::metrics().get_counter("vigil_partitions_released_total", "");
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
  CHECK(wait_for_checkpoint(topic, topic, "broker", 1, txs.size(), std::chrono::seconds(60)));
  node.stop();
  // Down longer than the group session: the assignment was lost, then
  // given back; merchant state is exact all the same.
  INFO("assignments lost: " << released.value());
  check_exactly_once_after_fault(topic, "broker", txs.size(), got);
}
