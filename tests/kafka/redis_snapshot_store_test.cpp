// Partitioned checkpoints against a real redis-server (tests/harness).

#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/kafka_harness.h"

#include <catch2/catch.hpp>

#include <memory>
#include <thread>

#include <unistd.h>

using namespace vigil;

namespace {

pipeline::store_snapshot one_user_per_partition(std::int64_t offset, std::uint64_t records) {
  pipeline::store_snapshot s;
  for (std::int32_t p = 0; p < 2; ++p) {
    auto id = "user-" + std::to_string(p);
    s.positions[p] = offset;
    s.users[id].records = records;
    s.user_partitions[id] = p;
  }
  s.merchants["m"].records = records;
  return s;
}

} // namespace

TEST_CASE("redis checkpoints: partitions move between nodes, a fenced-off owner cannot overwrite",
          "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("fence-" + std::to_string(::getpid()), "tx");
  connectors::redis_snapshot_store a{redis, prefix, "a"}, b{redis, prefix, "b"};

  CHECK(a.claim_partitions({0, 1}).positions.empty());  // never checkpointed
  a.save(one_user_per_partition(100, 1));

  // b takes partition 1 over: it gets a's state of it, and only that.
  auto taken = b.claim_partitions({1});
  CHECK(taken.positions == std::map<std::int32_t, std::int64_t>{{1, 100}});
  REQUIRE(taken.users.size() == 1);
  CHECK(taken.users.at("user-1").records == 1);
  CHECK(taken.partition_of_user("user-1") == 1);
  CHECK(taken.merchants.empty());  // merchants belong to the node

  // a did not notice and saves both partitions again: refused whole.
  CHECK_THROWS_WITH(a.save(one_user_per_partition(200, 2)), Catch::Contains("fenced"));
  auto stored = a.load_partitions({0, 1});
  CHECK(stored.positions.at(0) == 100);  // partition 0 untouched too: all or nothing
  CHECK(stored.positions.at(1) == 100);

  // b's checkpoint of its partition lands; a's node part is its own.
  pipeline::store_snapshot from_b;
  from_b.positions[1] = 300;
  from_b.users["user-1"].records = 3;
  from_b.user_partitions["user-1"] = 1;
  b.save(from_b);
  CHECK(a.load_partitions({1}).users.at("user-1").records == 3);
  REQUIRE(a.load_node().has_value());
  CHECK(a.load_node()->merchants.at("m").records == 1);
  CHECK(b.load_node()->merchants.empty());

  // Once a re-claims what it still owns, its saves of that land again.
  a.claim_partitions({0});
  pipeline::store_snapshot from_a;
  from_a.positions[0] = 400;
  a.save(from_a);
  CHECK(b.load_partitions({0}).positions.at(0) == 400);
}

TEST_CASE("a node_name is held by one running node, and its checkpoints need the lease",
          "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("lease-" + std::to_string(::getpid()), "tx");
  auto store = std::make_shared<connectors::redis_snapshot_store>(redis, prefix, "n1");
  const auto lease_key = store->lease_key();
  auto first = std::make_shared<connectors::node_name_lease>(redis, lease_key,
                                                         std::chrono::seconds(5), std::chrono::seconds(0));
  store->require_lease(first);
  pipeline::store_snapshot s;
  s.merchants["m"].records = 1;
  store->save(s);

  // A second node with the same name does not start while the first runs.
  CHECK_THROWS_WITH(connectors::node_name_lease(redis, lease_key, std::chrono::seconds(5),
                                            std::chrono::milliseconds(600)),
                    Catch::Contains("held by another running node"));

  // The lease expires (a long Redis stall; simulated: the key is deleted)
  // and nobody else takes the name: the holder's renewal takes it again and
  // its saves land as before.
  testing::redis_delete(redis, lease_key);
  auto retaken = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool saved = false;
  s.merchants["m"].records = 2;
  while (!saved && std::chrono::steady_clock::now() < retaken) {
    try {
      store->save(s);
      saved = true;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  CHECK(saved);

  // The first node stalls past its lease and another takes the name: the
  // first's saves are refused from then on.
  testing::redis_delete(redis, lease_key);
  auto second = std::make_unique<connectors::node_name_lease>(redis, lease_key, std::chrono::seconds(5),
                                                          std::chrono::seconds(0));
  s.merchants["m"].records = 3;
  CHECK_THROWS_WITH(store->save(s), Catch::Contains("lease"));
  // Its next renewal (every TTL/3) notices, and says so for good.
  auto noticed = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!first->lost() && std::chrono::steady_clock::now() < noticed)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(first->lost());
  REQUIRE(store->load_node().has_value());
  CHECK(store->load_node()->merchants.at("m").records == 2);

  // Nodes that stop let go of the name at once (not after the TTL).
  second.reset();
  store.reset();
  first.reset();
  CHECK_NOTHROW(connectors::node_name_lease(redis, lease_key, std::chrono::seconds(5),
                                        std::chrono::seconds(0)));
}

TEST_CASE("redis checkpoints delete the keys a shard forgot", "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("forget-" + std::to_string(::getpid()), "tx");
  connectors::redis_snapshot_store store{redis, prefix, "a"};
  store.claim_partitions({0, 1});
  store.save(one_user_per_partition(10, 1));
  pipeline::store_snapshot forgot;
  forgot.positions[1] = 20;
  forgot.removed_users = {{"user-1", 1}};
  forgot.removed_merchants = {"m"};
  store.save(forgot);
  auto stored = store.load_partitions({0, 1});
  CHECK(stored.users.count("user-0") == 1);  // untouched
  CHECK(stored.users.count("user-1") == 0);
  CHECK(stored.positions.at(1) == 20);
  auto node = store.load_node();
  CHECK((!node || node->merchants.count("m") == 0));
}

TEST_CASE("redis checkpoints after Redis lost its data: the owner claims again and stores everything, a zombie stays fenced",
          "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("lost-" + std::to_string(::getpid()), "tx");
  connectors::redis_snapshot_store zombie{redis, prefix, "zombie"}, owner{redis, prefix, "owner"};
  auto& lost = pipeline::metrics().get_counter("vigil_checkpoint_store_lost_total", "");
  zombie.claim_partitions({0});
  owner.claim_partitions({0});  // later: the owner; the zombie has not noticed
  auto state = [](std::int64_t offset, std::uint64_t records, const std::string& user) {
    pipeline::store_snapshot s;
    s.positions[0] = offset;
    s.users[user].records = records;
    s.user_partitions[user] = 0;
    return s;
  };
  owner.save(state(100, 1, "u-owner"));

  testing::redis_flush(redis);  // as a restart without persistence leaves it
  auto before = lost.value();
  // The zombie saves first: it finds no epoch and puts its own back...
  CHECK_THROWS_WITH(zombie.save(state(50, 9, "u-zombie")), Catch::Contains("claimed again"));
  // ...and the owner, finding an epoch below its claim, puts its own above.
  CHECK_THROWS_WITH(owner.save(state(200, 2, "u-owner")), Catch::Contains("claimed again"));
  CHECK(lost.value() == before + 2);
  owner.save(state(200, 2, "u-owner"));  // the full checkpoint that follows lands
  CHECK_THROWS_WITH(zombie.save(state(60, 9, "u-zombie")), Catch::Contains("fenced"));
  auto stored = owner.load_partitions({0});
  CHECK(stored.positions.at(0) == 200);
  CHECK(stored.users.at("u-owner").records == 2);
  CHECK(stored.users.count("u-zombie") == 0);

  // A claim after the loss is above every claim made before it, so the
  // node that held the partition before cannot take it back.
  testing::redis_flush(redis);
  connectors::redis_snapshot_store next{redis, prefix, "next"};
  next.claim_partitions({0});
  CHECK_THROWS_WITH(owner.save(state(300, 3, "u-owner")), Catch::Contains("fenced"));
  next.save(state(400, 4, "u-next"));
  CHECK(next.load_partitions({0}).positions.at(0) == 400);
}
