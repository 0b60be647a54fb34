// Network faults between the node and its services, through a fault
// injecting proxy (tests/support/fault_proxy): 200 ms latency, a bandwidth
// cap, connection resets and a 30 s black hole, first between the node and
// the broker, then between the node and Redis. The node stays up, says it
// is not ready while a service is unreachable, holds its in-flight work
// within credit, recovers by itself, and loses nothing: every transaction
// published and the state stored at the end equal to a from-scratch replay
// (see check_exactly_once_after_fault).

#include "actors/node/vigil_node.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/fault_proxy.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vigil;
using namespace vigil::testing;

namespace {

// Streams 11,000 transactions through a node whose link to one service
// (the broker, or Redis) runs through `proxy`; `wire` points the node's
// config at it.
template <class Wire>
void stream_through_faults(const std::string& name, fault_proxy& proxy, Wire wire) {
  const auto& svc = services();
  auto topic = unique("net-" + name);
  create_topic(svc.kafka, topic, 1);  // one partition: merchants replay exactly too
  auto txs = simulated(topic + "/", 11'000, 61);
  std::size_t produced = 0;
  auto produce_next = [&](std::size_t n) {
    produce(svc.kafka, topic,
            as_records(std::vector<pipeline::transaction>(txs.begin() + produced, txs.begin() + produced + n)));
    produced += n;
  };
  auto c = in_process_node_config(topic, name);
  c.snapshot_interval_ms = 200;
  wire(c);
  auto& in_flight = pipeline::metrics().get_gauge("vigil_in_flight_batches", "");
  auto& released = pipeline::metrics().get_counter("vigil_partitions_released_total", "");

  produce_next(3'000);
  actors::vigil_node node{c, ""};
  node.start();
  auto port = node.http_port();
  CHECK(predictions(topic + "/", produced, std::chrono::seconds(120)).size() == produced);

  proxy.set_latency(std::chrono::milliseconds(200));
  produce_next(2'000);
  CHECK(predictions(topic + "/", produced, std::chrono::seconds(120)).size() == produced);
  proxy.set_latency(std::chrono::milliseconds(0));

  proxy.set_bandwidth(200'000);
  produce_next(1'000);
  CHECK(predictions(topic + "/", produced, std::chrono::seconds(120)).size() == produced);
  proxy.set_bandwidth(0);

  produce_next(2'000);
  for (int i = 0; i < 3; ++i) {
    proxy.reset_connections();
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  CHECK(predictions(topic + "/", produced, std::chrono::seconds(120)).size() == produced);

  proxy.set_black_hole(true);
  produce_next(3'000);
  CHECK(ready_becomes(port, 503, std::chrono::seconds(30)));
  CHECK(http_call(port, "GET", "/health").status == 200);
  CHECK(in_flight.value() <= c.max_in_flight_batches);
  std::this_thread::sleep_for(std::chrono::seconds(15));  // 30 s in all
  CHECK(in_flight.value() <= c.max_in_flight_batches);
  proxy.set_black_hole(false);
  CHECK(ready_becomes(port, 200, std::chrono::seconds(90)));
  CHECK(proxy.connections() > 3);  // the node's links ran through the proxy, and were made again

  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(180));
  CHECK(wait_for_checkpoint(topic, topic, name, 1, txs.size(), std::chrono::seconds(90)));
  node.stop();
  INFO("assignments lost: " << released.value());
  check_exactly_once_after_fault(topic, name, txs.size(), got);
}

} // namespace

TEST_CASE("network faults between the node and the broker: latency, a bandwidth cap, resets, a 30 s black hole",
          "[chaos][kafka][network]") {
  const auto& svc = services();
  fault_proxy proxy(svc.kafka_proxied_port, svc.kafka_proxy_port);
  stream_through_faults("broker", proxy, [&](config::runtime_config& c) { c.brokers = proxy.address(); });
}

TEST_CASE("network faults between the node and Redis: latency, a bandwidth cap, resets, a 30 s black hole",
          "[chaos][kafka][network]") {
  const auto& svc = services();
  auto redis_port = std::stoi(svc.redis.substr(svc.redis.rfind(':') + 1));
  fault_proxy proxy(redis_port);
  stream_through_faults("redis", proxy, [&](config::runtime_config& c) { c.redis = proxy.address(); });
}
