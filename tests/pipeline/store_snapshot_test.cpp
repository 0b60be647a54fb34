#include "pipeline/features/store_snapshot.h"

#include <catch2/catch.hpp>

using namespace vigil::pipeline;

namespace {

store_snapshot part_with(std::vector<std::string> users, std::uint64_t records, std::int32_t partition) {
  store_snapshot s;
  for (const auto& id : users) {
    s.users[id].records = records;
    s.user_partitions[id] = partition;
  }
  s.merchants["m-" + std::to_string(records)].records = records;
  s.merchants["shared"].records = records;
  s.positions[partition] = static_cast<std::int64_t>(records) * 100;
  return s;
}

} // namespace

TEST_CASE("a checkpoint gathered from shard parts holds every key once, the later part winning, and what was removed",
          "[unit]") {
  store_snapshot merged;
  merged.absorb(part_with({"a", "b"}, 1, 0));  // into an empty snapshot
  merged.absorb(part_with({"c", "d"}, 2, 1));  // no common users
  auto later = part_with({"b", "e"}, 3, 2);    // b again: the later part wins
  merged.absorb(std::move(later));
  CHECK(later.users.empty());  // taken whole
  CHECK(later.merchants.empty());

  REQUIRE(merged.users.size() == 5);
  CHECK(merged.users.at("a").records == 1);
  CHECK(merged.users.at("b").records == 3);
  CHECK(merged.users.at("c").records == 2);
  CHECK(merged.users.at("e").records == 3);
  CHECK(merged.partition_of_user("b") == 2);
  CHECK(merged.partition_of_user("d") == 1);
  CHECK(merged.merchants.size() == 4);
  CHECK(merged.merchants.at("shared").records == 3);
  CHECK(merged.positions == std::map<std::int32_t, std::int64_t>{{0, 100}, {1, 200}, {2, 300}});

  // A part that forgot c (and a merchant) deletes them; one that holds them
  // again afterwards brings them back and takes back the removal.
  store_snapshot forgot;
  forgot.removed_users = {{"c", 1}};
  forgot.removed_merchants = {"m-1"};
  merged.absorb(std::move(forgot));
  CHECK(merged.users.count("c") == 0);
  CHECK(merged.user_partitions.count("c") == 0);
  CHECK(merged.merchants.count("m-1") == 0);
  CHECK(merged.removed_users.count("c") == 1);
  merged.absorb(part_with({"c"}, 1, 1));
  CHECK(merged.users.at("c").records == 1);
  CHECK(merged.removed_users.count("c") == 0);
  CHECK(merged.removed_merchants.count("m-1") == 0);
}
