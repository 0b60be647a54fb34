// The cluster's merchant shard store against a real redis-server
// (tests/harness): leases fence every log write, also when one call writes
// many shards' logs.

#include "pipeline/connectors/merchant_shard_store.h"
#include "support/kafka_harness.h"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace vigil;
using namespace std::chrono_literals;

TEST_CASE("merchant shard logs: one call appends to every shard whose lease it holds, in order, and to no other",
          "[integration][redis][cluster]") {
  const auto& redis = testing::services().redis;
  auto prefix = "merchant-store-" + std::to_string(::getpid());
  connectors::merchant_shard_store a{redis, prefix, "a/1", 5000ms}, b{redis, prefix, "b/1", 5000ms};
  REQUIRE(a.claim(1));
  REQUIRE(a.claim(2));
  REQUIRE(b.claim(3));
  REQUIRE(a.append(1, "first"));

  auto appended = a.append_many({{1, {"second", "third"}}, {3, {"not a's"}}, {2, {"only"}}});
  CHECK(appended == std::vector<bool>{true, false, true});
  CHECK(a.load(1).log == std::vector<std::string>{"first", "second", "third"});
  CHECK(a.load(2).log == std::vector<std::string>{"only"});
  CHECK(b.load(3).log.empty());  // a does not hold shard 3: nothing of its entries landed

  // Binary entries (encoded merchant updates) arrive byte for byte.
  const std::string binary("\0\x01\xff tail", 8);
  CHECK(b.append_many({{3, {binary}}}) == std::vector<bool>{true});
  CHECK(b.load(3).log == std::vector<std::string>{binary});
  CHECK(a.append_many({}).empty());

  // A released lease fences the holder's next write.
  a.release(2);
  CHECK(a.append_many({{2, {"late"}}, {1, {"fourth"}}}) == std::vector<bool>{false, true});
  CHECK(a.load(2).log == std::vector<std::string>{"only"});
  CHECK(a.load(1).log.size() == 4);
}
