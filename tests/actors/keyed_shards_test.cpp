#include "pipeline/stream/keyed_shards.h"
#include "pipeline/features/spare_user_nodes.h"
#include "models/serving/batch_scoring.h"
#include "models/serving/scoring_model.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>

using namespace vigil;
using pipeline::work_batch;
using pipeline::work_item;

namespace {

work_item item(std::uint64_t sequence, const std::string& user = "u") {
  work_item w;
  w.sequence = sequence;
  w.tx.transaction_id = "tx-" + std::to_string(sequence);
  w.tx.user_id = user;
  w.tx.merchant_id = "m";
  return w;
}

} // namespace

TEST_CASE("the batch assembler waits for every part and merges by sequence", "[unit][actors]") {
  pipeline::batch_assembler a{2};
  CHECK(a.add(0, {item(3), item(1)}).empty());
  auto ready = a.add(0, {item(2)});
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].first == 0);
  REQUIRE(ready[0].second.size() == 3);
  CHECK(ready[0].second[0].sequence == 1);
  CHECK(ready[0].second[2].sequence == 3);
}

TEST_CASE("the batch assembler interleaves ordered parts by sequence", "[unit][actors]") {
  pipeline::batch_assembler a{3, 7};
  CHECK(a.add(7, {item(2), item(5), item(9)}).empty());
  CHECK(a.add(7, {item(1), item(6)}).empty());
  auto ready = a.add(7, {item(3), item(4), item(7), item(8)});
  REQUIRE(ready.size() == 1);
  std::vector<std::uint64_t> order;
  for (const auto& w : ready[0].second)
    order.push_back(w.sequence);
  CHECK(order == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(ready[0].second[3].tx.transaction_id == "tx-4");  // moved whole, not only the sequence
}

TEST_CASE("a batch splits by shard in its own order, every item once", "[unit][actors]") {
  work_batch batch;
  for (std::uint64_t i = 0; i < 200; ++i)
    batch.push_back(item(i, "u-" + std::to_string(i % 37)));
  auto parts =
    pipeline::split_by_shard(batch, 3, [](const work_item& w) -> const std::string& { return w.tx.user_id; });
  REQUIRE(parts.size() == 3);
  std::size_t total = 0;
  for (int shard = 0; shard < 3; ++shard) {
    const auto& part = parts[static_cast<std::size_t>(shard)];
    total += part.size();
    CHECK(part.capacity() == part.size());  // allocated once, to size
    for (std::size_t k = 0; k < part.size(); ++k) {
      CHECK(pipeline::shard_of(part[k].tx.user_id, 3) == shard);
      CHECK(part[k].tx.transaction_id == "tx-" + std::to_string(part[k].sequence));
      if (k > 0)
        CHECK(part[k - 1].sequence < part[k].sequence);
    }
  }
  CHECK(total == 200);
}

TEST_CASE("the batch assembler releases batches in id order", "[unit][actors]") {
  pipeline::batch_assembler a{1};
  CHECK(a.add(1, {item(5)}).empty());  // batch 0 not complete yet
  CHECK(a.pending() == 1);
  auto ready = a.add(0, {item(1)});
  REQUIRE(ready.size() == 2);
  CHECK(ready[0].first == 0);
  CHECK(ready[1].first == 1);
  CHECK(a.pending() == 0);
}

TEST_CASE("shards are chosen by a stable hash", "[unit][actors]") {
  CHECK(pipeline::shard_of("u-1", 4) == pipeline::shard_of("u-1", 4));
  std::set<int> seen;
  for (int i = 0; i < 100; ++i)
    seen.insert(pipeline::shard_of("u-" + std::to_string(i), 4));
  CHECK(seen.size() == 4);
  CHECK(pipeline::shard_of("anything", 1) == 0);
}

TEST_CASE("user shards compute features before applying the record", "[unit][actors]") {
  pipeline::user_shard shard{600'000};
  work_batch batch{item(0), item(1)};
  batch[0].tx.amount = 10;
  batch[0].tx.event_time_ms = 1'000'000;
  batch[1].tx.amount = 20;
  batch[1].tx.event_time_ms = 1'060'000;
  shard.process(batch, true);
  auto count_24h = static_cast<int>(vigil::pipeline::feature::user_count_24h);
  CHECK(batch[0].features[count_24h] == 0);
  CHECK(batch[1].features[count_24h] == 1);
  CHECK(shard.users().at("u").records == 2);
  work_batch probe{item(2)};
  probe[0].tx.event_time_ms = 1'100'000;
  shard.process(probe, false);
  CHECK(probe[0].features[count_24h] == 2);
  CHECK(shard.users().at("u").records == 2);
}

TEST_CASE("merchant shards hold the labels travelling with records until their time", "[unit][actors][labels]") {
  pipeline::merchant_shard shard{600'000};
  const auto labelled = static_cast<int>(vigil::pipeline::feature::merchant_labelled_30d);
  const std::int64_t t0 = 1'709'251'200'000;  // 2024-03-01
  work_batch first{item(0), item(1)};
  first[0].tx.event_time_ms = t0;
  first[0].position = {0, 0};
  first[0].label = pipeline::travelling_label{t0 + 3'600'000, true};
  first[1].tx.event_time_ms = t0 + 3'599'999;
  first[1].position = {0, 1};
  shard.process(first, true);
  CHECK(first[1].features[labelled] == 0);  // not known yet
  CHECK(shard.merchants().at("m").pending_labels.size() == 1);
  work_batch probe{item(2)};
  probe[0].tx.event_time_ms = t0 + 3'600'000;
  const auto before = shard.merchants().at("m");
  shard.process(probe, false);  // a read sees it, and changes nothing
  CHECK(probe[0].features[labelled] == 1);
  CHECK(shard.merchants().at("m").pending_labels.size() == 1);
  CHECK(shard.merchants().at("m") == before);
  work_batch second{item(3)};
  second[0].tx.event_time_ms = t0 + 3'600'000;
  second[0].position = {0, 2};
  shard.process(second, true);
  CHECK(second[0].features[labelled] == 1);
  CHECK(shard.merchants().at("m").pending_labels.empty());
  // Held labels are state: the checkpoint carries them.
  work_batch third{item(4)};
  third[0].tx.event_time_ms = t0 + 3'600'001;
  third[0].position = {0, 3};
  third[0].label = pipeline::travelling_label{t0 + 7'200'000, false};
  shard.process(third, true);
  auto copy = shard.copy_state(false);
  CHECK(copy.merchants.at("m").pending_labels.size() == 1);
  // The user shard holds the same label for the user's own risk.
  pipeline::user_shard users{600'000};
  work_batch with_label{item(5)};
  with_label[0].tx.event_time_ms = t0;
  with_label[0].position = {0, 4};
  with_label[0].label = pipeline::travelling_label{t0 + 3'600'000, true};
  users.process(with_label, true);
  CHECK(users.users().at("u").pending_labels.size() == 1);
  work_batch next{item(6)};
  next[0].tx.event_time_ms = t0 + 3'600'000;
  next[0].position = {0, 5};
  users.process(next, true);
  CHECK(next[0].features[static_cast<int>(vigil::pipeline::feature::user_frauds_30d)] == 1);
  CHECK(users.apply_label("u", t0 + 1, false));
  CHECK_FALSE(users.apply_label("nobody", t0, true));  // no state for a label alone
}

TEST_CASE("user shards tag users with their partition, hand them over and forget them",
          "[unit][actors]") {
  pipeline::user_shard shard{600'000};
  work_batch batch{item(0, "a"), item(1, "b"), item(2, "c")};
  batch[0].position.partition = 0;
  batch[1].position.partition = 1;  // "c" comes from /predict: no partition
  shard.process(batch, true);
  auto state = shard.copy_state(true);
  CHECK(state.users.size() == 3);
  CHECK(state.partition_of_user("a") == 0);
  CHECK(state.partition_of_user("b") == 1);
  CHECK(state.partition_of_user("c") == vigil::pipeline::no_partition);

  CHECK(shard.drop_partitions({1}) == 1);  // partition 1 revoked
  CHECK(shard.users().count("b") == 0);
  CHECK(shard.users().count("a") == 1);
  CHECK(shard.users().count("c") == 1);

  pipeline::user_shard next_owner{600'000};
  next_owner.install(vigil::pipeline::partition_part(state, 1));
  REQUIRE(next_owner.users().count("b") == 1);
  CHECK(next_owner.users().at("b") == state.users.at("b"));
  CHECK(next_owner.copy_state(true).partition_of_user("b") == 1);
  CHECK(next_owner.drop_partitions({0}) == 0);
}

TEST_CASE("shards copy only what changed since the last checkpoint, or everything when asked",
          "[unit][actors]") {
  pipeline::user_shard users{600'000};
  pipeline::merchant_shard merchants{600'000};
  work_batch batch{item(0, "a"), item(1, "b")};
  batch[0].tx.merchant_id = "m1";
  batch[1].tx.merchant_id = "m2";
  users.process(batch, true);
  merchants.process(batch, true);
  CHECK(users.copy_state(false).users.size() == 2);
  CHECK(merchants.copy_state(false).merchants.size() == 2);
  CHECK(users.copy_state(false).users.empty());  // nothing changed since
  CHECK(merchants.copy_state(false).merchants.empty());

  work_batch next{item(2, "b")};
  next[0].tx.merchant_id = "m2";
  next[0].tx.event_time_ms = 1'000;
  users.process(next, true);
  merchants.process(next, false);  // scored, not applied: unchanged
  merchants.apply_label("m1", 0, true);
  auto changed = users.copy_state(false);
  REQUIRE(changed.users.size() == 1);
  CHECK(changed.users.count("b") == 1);
  CHECK(changed.users.at("b") == users.users().at("b"));
  auto labelled = merchants.copy_state(false);
  REQUIRE(labelled.merchants.size() == 1);
  CHECK(labelled.merchants.count("m1") == 1);

  CHECK(users.copy_state(true).users.size() == 2);  // after a failed save
  CHECK(merchants.copy_state(true).merchants.size() == 2);
  pipeline::user_shard restored{600'000};
  restored.install(users.copy_state(true));
  CHECK(restored.copy_state(false).users.empty());  // restored state is stored already
}

TEST_CASE("disabled features are scored and logged as missing", "[integration][actors]") {
  vigil::models::model_registry registry{vigil::testing::trained_registry()};
  auto model = vigil::models::load_scoring_model(registry, registry.production()->version);
  work_batch batch{item(0)};
  batch[0].features.fill(1.0f);
  auto geo = static_cast<int>(vigil::pipeline::feature::geo_speed_kmh);
  auto plain = models::score_batch(batch, *model, {0.5, 0.9}, false);
  auto masked = models::score_batch(batch, *model, {0.5, 0.9}, false, {geo});
  CHECK(plain[0].features[geo] == 1.0f);
  CHECK(std::isnan(masked[0].features[geo]));
  batch[0].features[geo] = std::numeric_limits<float>::quiet_NaN();
  CHECK(masked[0].probability == Approx(model->forest.predict_probability(batch[0].features.data())));
}

TEST_CASE("checkpoint copies refill the nodes of saved copies instead of allocating, up to a bound",
          "[unit][actors]") {
  pipeline::take_spare_user_nodes(pipeline::max_spare_user_nodes);  // none kept from other tests
  pipeline::user_shard shard{600'000};
  work_batch batch{item(0, "a"), item(1, "b"), item(2, "c")};
  shard.process(batch, true);
  auto first = shard.copy_state(false);
  REQUIRE(first.users.size() == 3);
  std::set<const pipeline::user_state*> memory;
  for (const auto& [id, state] : first.users)
    memory.insert(&state);
  pipeline::give_spare_user_nodes(std::move(first.users));  // as the save worker does
  CHECK(pipeline::spare_user_nodes() == 3);

  work_batch next{item(3, "b"), item(4, "d")};
  next[0].tx.event_time_ms = next[1].tx.event_time_ms = 5'000;
  shard.process(next, true);
  auto second = shard.copy_state(false);
  REQUIRE(second.users.size() == 2);
  for (const auto& [id, state] : second.users) {
    INFO(id);
    CHECK(memory.count(&state) == 1);          // a saved copy's memory
    CHECK(state == shard.users().at(id));      // holding this copy's state
  }
  CHECK(pipeline::spare_user_nodes() == 1);    // the node not needed stays kept

  // Bounded: a full checkpoint of every user is not kept whole.
  pipeline::user_map many;
  for (std::size_t i = 0; i < pipeline::max_spare_user_nodes + 10; ++i)
    many["user-" + std::to_string(i)];
  pipeline::give_spare_user_nodes(std::move(many));
  CHECK(pipeline::spare_user_nodes() == pipeline::max_spare_user_nodes);
  CHECK(pipeline::take_spare_user_nodes(5).size() == 5);
  CHECK(pipeline::spare_user_nodes() == pipeline::max_spare_user_nodes - 5);
  pipeline::take_spare_user_nodes(pipeline::max_spare_user_nodes);
}
