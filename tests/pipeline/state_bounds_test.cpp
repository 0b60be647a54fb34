// State stays bounded under any input: idle keys expire after the longest
// window (and read as absent before they are forgotten, on every path),
// keys only HTTP created are capped, and checkpoints delete what was
// forgotten.

#include "pipeline/features/feature_store.h"
#include "pipeline/stream/keyed_shards.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace vigil;
using namespace vigil::pipeline;

namespace {

constexpr std::int64_t t0 = 1'704'067'200'000;  // 2024-01-01

work_item item(const std::string& user, const std::string& merchant, std::int64_t t,
               std::int32_t partition = 0, double amount = 20) {
  static std::uint64_t sequence = 0;
  work_item w;
  w.sequence = ++sequence;
  w.tx.transaction_id = "tx-" + std::to_string(sequence);
  w.tx.user_id = user;
  w.tx.merchant_id = merchant;
  w.tx.merchant_category = "grocery";
  w.tx.amount = amount;
  w.tx.currency = "EUR";
  w.tx.country = "DE";
  w.tx.event_time_ms = t;
  w.position.partition = partition;
  return w;
}

// Bitwise, so NaN (missing) compares equal to NaN.
bool same_features(const feature_vector& a, const feature_vector& b) {
  return std::memcmp(a.data(), b.data(), sizeof(a)) == 0;
}

feature_vector scored(user_shard& users, merchant_shard& merchants, work_item w, bool update) {
  work_batch b{std::move(w)};
  users.process(b, update);
  merchants.process(b, update);
  return b[0].features;
}

} // namespace

TEST_CASE("state idle past its TTL reads as absent, on the stream and in training alike", "[unit][features]") {
  user_shard users{600'000};
  merchant_shard merchants{600'000};
  feature_store training;
  std::vector<work_item> history;
  for (int i = 0; i < 5; ++i)
    history.push_back(item("u", "m", t0 + i * 60'000));
  history.push_back(item("u", "m", t0 + state_ttl_ms + 10 * 60'000));  // back after 35 days
  history.push_back(item("u", "m", t0 + state_ttl_ms + 11 * 60'000));
  for (const auto& w : history) {
    auto stream = scored(users, merchants, w, true);
    CHECK(same_features(stream, training.features(w.tx, true)));  // one feature code path
  }
  // The returning transaction was scored as a new user's first one.
  user_shard fresh_users{600'000};
  merchant_shard fresh_merchants{600'000};
  auto first = scored(fresh_users, fresh_merchants, history[5], false);
  user_shard replay_users{600'000};
  merchant_shard replay_merchants{600'000};
  for (int i = 0; i < 5; ++i)
    scored(replay_users, replay_merchants, history[i], true);
  CHECK(same_features(scored(replay_users, replay_merchants, history[5], false), first));
  CHECK(users.users().at("u").records == 2);  // started over, then one more
  // Scoring without update reads expired state as absent but never drops it.
  CHECK(replay_users.users().count("u") == 1);
}

TEST_CASE("idle keys are forgotten at a checkpoint and deleted from the store", "[unit][features]") {
  user_shard users{600'000};
  merchant_shard merchants{600'000};
  scored(users, merchants, item("idle", "m-idle", t0, 3), true);
  auto first = users.copy_state(false);
  CHECK(first.users.count("idle") == 1);
  scored(users, merchants, item("active", "m-active", t0 + state_ttl_ms + 2 * day_ms, 3), true);
  auto second = users.copy_state(false);
  CHECK(users.users().count("idle") == 0);
  CHECK(second.removed_users == std::unordered_map<std::string, std::int32_t>{{"idle", 3}});
  CHECK(users.forgotten() == 1);
  auto merchant_part = merchants.copy_state(false);
  CHECK(merchant_part.removed_merchants == std::unordered_set<std::string>{"m-idle"});
  // What a store holds after both checkpoints, each merged from its shard
  // parts first (as the source does): the idle keys are gone.
  store_snapshot stored;
  stored.absorb(std::move(first));
  store_snapshot checkpoint;
  checkpoint.absorb(std::move(second));
  checkpoint.absorb(std::move(merchant_part));
  CHECK(checkpoint.removed_users.count("idle") == 1);
  CHECK(checkpoint.removed_merchants.count("m-idle") == 1);
  stored.absorb(std::move(checkpoint));
  CHECK(stored.users.count("idle") == 0);
  CHECK(stored.user_partitions.count("idle") == 0);
  CHECK(stored.users.count("active") == 1);
  CHECK(stored.merchants.count("m-idle") == 0);
}

TEST_CASE("a key one day short of the forgetting margin is kept", "[unit][features]") {
  user_shard users{600'000};
  merchant_shard merchants{600'000};
  scored(users, merchants, item("quiet", "m", t0), true);
  scored(users, merchants, item("busy", "m", t0 + state_ttl_ms + 12 * hour_ms), true);
  users.copy_state(false);
  CHECK(users.users().count("quiet") == 1);  // expired for new records, but not yet forgotten
}

TEST_CASE("keys only HTTP created are capped, least recently used first", "[unit][features][security]") {
  state_bounds bounds;
  bounds.max_http_keys = 3;
  user_shard users{600'000, bounds};
  merchant_shard merchants{600'000, bounds};
  scored(users, merchants, item("stream-user", "stream-merchant", t0, 0), true);
  for (int i = 0; i < 10; ++i)
    scored(users, merchants, item("http-" + std::to_string(i), "hm-" + std::to_string(i), t0 + i, no_partition), true);
  scored(users, merchants, item("http-7", "hm-7", t0 + 20, no_partition), true);  // touched again: newest
  for (int i = 10; i < 12; ++i)
    scored(users, merchants, item("http-" + std::to_string(i), "hm-" + std::to_string(i), t0 + 30 + i, no_partition), true);
  CHECK(users.users().size() == 4);  // the stream's user and three from HTTP
  CHECK(users.users().count("stream-user") == 1);
  CHECK(users.users().count("http-7") == 1);
  CHECK(users.users().count("http-11") == 1);
  CHECK(users.users().count("http-9") == 0);
  CHECK(merchants.merchants().size() == 4);
  CHECK(merchants.merchants().count("stream-merchant") == 1);
  auto copy = users.copy_state(false);
  CHECK(copy.removed_users.size() == 9);
  CHECK(copy.removed_users.at("http-0") == no_partition);
  // Labels for merchants no record brought count against the same bound.
  for (int i = 0; i < 10; ++i)
    merchants.apply_label("label-only-" + std::to_string(i), t0, true);
  CHECK(merchants.merchants().size() == 4);
  // A merchant the stream brings leaves the bound, and is never pushed out.
  scored(users, merchants, item("stream-user", "label-only-9", t0 + 100, 0), true);
  for (int i = 0; i < 5; ++i)
    merchants.apply_label("later-" + std::to_string(i), t0, true);
  CHECK(merchants.merchants().count("label-only-9") == 1);
}

TEST_CASE("a sustained stream of unique ids holds only the last TTL's keys", "[unit][features][security]") {
  user_shard users{600'000};
  merchant_shard merchants{600'000};
  // 100 days, 200 new users and merchants a day, none ever seen again.
  std::size_t most = 0;
  for (int day = 0; day < 100; ++day) {
    work_batch batch;
    for (int i = 0; i < 200; ++i)
      batch.push_back(item("u-" + std::to_string(day) + "-" + std::to_string(i),
                           "m-" + std::to_string(day) + "-" + std::to_string(i), t0 + day * day_ms + i * 1000));
    users.process(batch, true);
    merchants.process(batch, true);
    users.copy_state(false);  // a checkpoint a day
    merchants.copy_state(false);
    most = std::max({most, users.users().size(), merchants.merchants().size()});
  }
  // Live keys: at most TTL + margin + one day of ids.
  const std::size_t bound = static_cast<std::size_t>((state_ttl_ms + 2 * day_ms) / day_ms) * 200;
  CHECK(most <= bound);
  CHECK(users.users().size() <= bound);
  CHECK(users.forgotten() >= 100 * 200 - bound);
}
