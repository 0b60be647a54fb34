// Redis killed with kill -9 mid-stream and started again on the same port:
// with its append-only file, or empty. Either way the node keeps scoring,
// its checkpoints fail while Redis is away and then land again, and the
// state stored at the end equals a from-scratch replay: nothing lost, nothing
// counted twice.

#include "actors/node/vigil_node.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vigil;
using namespace vigil::testing;

namespace {

bool wait_for_more(const pipeline::counter& counter, std::uint64_t than, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (counter.value() <= than && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return counter.value() > than;
}

// Streams 9,000 transactions through an in-process node; Redis dies after
// the first 3,000 are checkpointed, stays away while the next 3,000 arrive,
// and comes back (with or without its data) before the last 3,000.
void stream_through_redis_restart(bool keep_data) {
  const auto& svc = services();
  auto name = std::string(keep_data ? "aof" : "empty");
  auto topic = unique("redis-" + name);
  create_topic(svc.kafka, topic, 1);  // one partition: merchants replay exactly too
  auto txs = simulated(topic + "/", 9'000, keep_data ? 41 : 43);
  auto part = [&](std::size_t from, std::size_t to) {
    return as_records(std::vector<pipeline::transaction>(txs.begin() + from, txs.begin() + to));
  };
  if (keep_data)
    redis_append_only(svc.redis);
  auto c = in_process_node_config(topic, name);
  c.snapshot_interval_ms = 200;
  auto& m = pipeline::metrics();
  auto& failures = m.get_counter("vigil_checkpoint_failures_total", "");
  auto& stored = m.get_counter("vigil_checkpoints_total", "");
  auto& lost = m.get_counter("vigil_checkpoint_store_lost_total", "");

  produce(svc.kafka, topic, part(0, 3'000));
  actors::vigil_node node{c, ""};
  node.start();
  predictions(topic + "/", 3'000, std::chrono::seconds(120));
  REQUIRE(wait_for_checkpoint(topic, topic, name, 1, 3'000, std::chrono::seconds(60)));

  auto failed_before = failures.value();
  std::thread down([&] { restart_redis(keep_data, std::chrono::seconds(3)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  produce(svc.kafka, topic, part(3'000, 6'000));  // while Redis is away: scored all the same
  CHECK(predictions(topic + "/", 6'000, std::chrono::seconds(120)).size() == 6'000);
  down.join();
  CHECK(failures.value() > failed_before);  // checkpoints failed while it was away

  auto stored_before = stored.value();
  produce(svc.kafka, topic, part(6'000, 9'000));
  CHECK(predictions(topic + "/", txs.size(), std::chrono::seconds(120)).size() == txs.size());
  CHECK(wait_for_more(stored, stored_before, std::chrono::seconds(60)));  // and land again
  // Each test case is a process of its own: the counter started at 0.
  if (keep_data)
    CHECK(lost.value() == 0);  // the epochs came back with the data
  else
    CHECK(lost.value() > 0);  // the loss was noticed, the partition claimed again
  node.stop();

  auto snap = stored_checkpoint(topic, topic, name, 1);
  CHECK(snap.positions.at(0) == static_cast<std::int64_t>(txs.size()));
  auto replay = replay_topic(topic, txs.size());
  CHECK(snap.users.size() == replay.users().size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  CHECK(snap.merchants.size() == replay.merchants().size());
  CHECK(equal_states(snap.merchants, replay.merchants()) == replay.merchants().size());
}

} // namespace

TEST_CASE("Redis killed and restarted with its append-only file: checkpoints resume, state equals a replay",
          "[chaos][kafka][redis]") {
  stream_through_redis_restart(true);
}

TEST_CASE("Redis killed and restarted empty: the node claims its partitions again and stores all its state",
          "[chaos][kafka][redis]") {
  stream_through_redis_restart(false);
}
