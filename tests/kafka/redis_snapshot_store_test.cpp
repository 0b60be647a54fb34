// Partitioned checkpoints against a real redis-server (tests/harness).

#include "pipeline/connectors/checkpoint_deltas.h"
#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_connection.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "pipeline/features/state_codec.h"
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

// Keys of `prefix` matching `pattern` (SCAN, as many rounds as it takes).
std::vector<std::string> keys_matching(const std::string& pattern) {
  auto c = connectors::redis_connect(testing::services().redis);
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto r = connectors::redis_command(c.get(), {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    cursor.assign(r->element[0]->str, r->element[0]->len);
    for (std::size_t i = 0; i < r->element[1]->elements; ++i)
      keys.emplace_back(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
  } while (cursor != "0");
  return keys;
}

long long redis_integer(const std::vector<std::string>& command) {
  auto c = connectors::redis_connect(testing::services().redis);
  return connectors::redis_command(c.get(), command)->integer;
}

} // namespace

TEST_CASE("checkpoint deltas are cut into chunks bounded in fields and bytes, in order, deletions last",
          "[redis]") {
  connectors::hash_change change;
  for (int i = 0; i < 600; ++i)
    change.set.emplace_back("u:" + std::to_string(i), std::string(100, 'x'));
  change.set.emplace_back("u:huge", std::string(connectors::delta_chunk_bytes + 1, 'y'));
  change.set.emplace_back("u:after", "z");
  change.deleted = {"u:gone-1", "u:gone-2"};
  auto chunks = connectors::delta_chunks(std::move(change));
  CHECK(change.empty());  // moved out
  std::vector<std::pair<std::string, std::string>> joined;
  for (const auto& chunk : chunks) {
    CHECK(!chunk.empty());
    CHECK(chunk.size() <= connectors::delta_chunk_fields);
    std::size_t bytes = 0;
    for (const auto& [field, value] : chunk)
      bytes += field.size() + value.size();
    CHECK((bytes <= connectors::delta_chunk_bytes || chunk.size() == 1));  // a larger field goes alone
    joined.insert(joined.end(), chunk.begin(), chunk.end());
  }
  REQUIRE(joined.size() == 604);
  CHECK(joined[0].first == "u:0");
  CHECK(joined[599].first == "u:599");
  CHECK(joined[600].first == "u:huge");
  CHECK(joined[601].first == "u:after");
  CHECK(joined[602] == std::pair<std::string, std::string>{"u:gone-1", ""});  // a tombstone
  CHECK(joined[603] == std::pair<std::string, std::string>{"u:gone-2", ""});
  CHECK(chunks.size() >= 4);  // 600 fields: three chunks at least, the huge one alone
}

TEST_CASE("a checkpoint larger than many chunks is stored whole, its deltas folded in and gone",
          "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("big-" + std::to_string(::getpid()), "tx");
  connectors::redis_snapshot_store store{redis, prefix, "a"};
  store.claim_partitions({0, 1});
  pipeline::store_snapshot big;
  big.positions = {{0, 5000}, {1, 7000}};
  for (int i = 0; i < 3000; ++i) {
    auto id = "user-" + std::to_string(i);
    big.users[id].records = static_cast<std::uint64_t>(i);
    big.user_partitions[id] = i % 2;
  }
  for (int i = 0; i < 700; ++i)
    big.merchants["merchant-" + std::to_string(i)].records = static_cast<std::uint64_t>(i);
  store.save(big);
  auto stored = store.load_partitions({0, 1});
  CHECK(stored.positions == big.positions);
  REQUIRE(stored.users.size() == 3000);
  CHECK(stored.users.at("user-2999").records == 2999);
  CHECK(stored.partition_of_user("user-2999") == 1);
  CHECK(store.load_node()->merchants.size() == 700);
  // Folded: every field in its hash, no delta left or listed.
  CHECK(keys_matching(prefix + ":*:delta:*").empty());
  CHECK(redis_integer({"LLEN", connectors::delta_list_key(store.partition_key(0))}) == 0);
  CHECK(redis_integer({"HLEN", store.partition_key(0)}) == 1500 + 2);  // users, position, written
}

TEST_CASE("committed checkpoint deltas not folded yet are read over their hash, and the next save folds them",
          "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("unfolded-" + std::to_string(::getpid()), "tx");
  connectors::redis_snapshot_store store{redis, prefix, "a"};
  store.claim_partitions({0, 1});
  store.save(one_user_per_partition(10, 1));
  // As a save that died after its commit leaves it: two committed deltas,
  // the second changing what the first set and deleting a stored user.
  auto c = connectors::redis_connect(redis);
  const auto hash = store.partition_key(0);
  auto commit = [&](const std::string& delta, connectors::hash_change change) {
    connectors::write_delta(c.get(), delta, std::move(change));
    connectors::redis_command(c.get(), {"PERSIST", delta});
    connectors::redis_command(c.get(), {"RPUSH", connectors::delta_list_key(hash), delta});
  };
  pipeline::user_state first, second;
  first.records = 5;
  second.records = 6;
  commit(hash + ":delta:test:1", {{{"u:late", pipeline::encode(first)}}, {}});
  commit(hash + ":delta:test:2", {{{"u:late", pipeline::encode(second)}}, {"u:user-0"}});
  auto stored = store.load_partitions({0});
  CHECK(stored.users.count("user-0") == 0);  // the tombstone
  REQUIRE(stored.users.count("u:late") == 0);
  REQUIRE(stored.users.count("late") == 1);
  CHECK(stored.users.at("late").records == 6);  // the later delta wins
  CHECK(stored.partition_of_user("late") == 0);
  CHECK(stored.positions.at(0) == 10);

  pipeline::store_snapshot next;
  next.positions[0] = 20;
  store.save(next);  // changes nothing of partition 0's users, folds its deltas
  CHECK(redis_integer({"LLEN", connectors::delta_list_key(hash)}) == 0);
  CHECK(keys_matching(hash + ":delta:*").empty());
  CHECK(redis_integer({"HEXISTS", hash, "u:user-0"}) == 0);
  CHECK(redis_integer({"HEXISTS", hash, "u:late"}) == 1);
  auto folded = store.load_partitions({0});
  CHECK(folded.users.at("late").records == 6);
  CHECK(folded.positions.at(0) == 20);
}

TEST_CASE("a refused save leaves its changes in an unlisted delta that expires, and the checkpoint as it was",
          "[integration][redis]") {
  const auto& redis = testing::services().redis;
  auto prefix = connectors::checkpoint_prefix("orphan-" + std::to_string(::getpid()), "tx");
  connectors::redis_snapshot_store zombie{redis, prefix, "zombie"}, owner{redis, prefix, "owner"};
  zombie.claim_partitions({0, 1});
  owner.claim_partitions({0, 1});
  owner.save(one_user_per_partition(100, 1));
  CHECK_THROWS_WITH(zombie.save(one_user_per_partition(200, 9)), Catch::Contains("fenced"));
  auto orphans = keys_matching(owner.partition_key(0) + ":delta:zombie:*");
  REQUIRE(orphans.size() == 1);
  auto ttl = redis_integer({"TTL", orphans[0]});
  CHECK(ttl > 0);
  CHECK(ttl <= connectors::uncommitted_delta_ttl_seconds);
  CHECK(redis_integer({"LLEN", connectors::delta_list_key(owner.partition_key(0))}) == 0);
  auto stored = owner.load_partitions({0, 1});
  CHECK(stored.positions.at(0) == 100);
  CHECK(stored.users.at("user-0").records == 1);
}

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
