// The embedded checkpoint file: saves are upserts, loads split by partition.

#include "pipeline/connectors/snapshot_store.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace vigil;

TEST_CASE("the checkpoint file keeps every key across incremental saves", "[unit][actors]") {
  auto dir = testing::scratch_dir("file-store");
  connectors::file_snapshot_store store{(dir / "state.snapshot").string()};
  CHECK_FALSE(store.load_node().has_value());  // nothing saved yet

  pipeline::store_snapshot first;
  first.positions = {{0, 10}, {1, 20}};
  first.users["a"].records = 1;
  first.user_partitions["a"] = 0;
  first.users["b"].records = 1;
  first.user_partitions["b"] = 1;
  first.merchants["m"].records = 2;
  store.save(first);

  pipeline::store_snapshot changed;  // only what changed since
  changed.positions = {{1, 25}};
  changed.users["b"].records = 2;
  changed.user_partitions["b"] = 1;
  store.save(changed);

  auto all = store.load_node();
  REQUIRE(all.has_value());
  CHECK(all->positions == std::map<std::int32_t, std::int64_t>{{0, 10}, {1, 25}});
  CHECK(all->users.at("a").records == 1);  // untouched by the second save
  CHECK(all->users.at("b").records == 2);
  CHECK(all->merchants.at("m").records == 2);

  auto one = store.claim_partitions({1});
  CHECK(one.positions == std::map<std::int32_t, std::int64_t>{{1, 25}});
  REQUIRE(one.users.size() == 1);
  CHECK(one.users.at("b").records == 2);
  CHECK(one.merchants.empty());

  std::ofstream(dir / "state.snapshot", std::ios::trunc) << "garbage";
  CHECK_THROWS_WITH(store.load_node(), Catch::Contains("corrupt"));
}
