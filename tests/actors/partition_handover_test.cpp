// Partition hand-over inside one pipeline, with test doubles for the
// consumer group and the checkpoint store: a revoked partition is
// checkpointed before it is released, and an assigned one resumes from that
// checkpoint with its users, so no record is lost, scored twice or counted
// twice in any user state.

#include "actors/pipeline/pipeline_topology.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "models/serving/scoring_model.h"
#include "pipeline/features/feature_store.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/recording_publisher.h"
#include "support/test_registry.h"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <thread>

using namespace vigil;
using namespace vigil::actors;
using namespace vigil::connectors;

namespace {

constexpr std::int32_t partitions = 2;

std::int32_t partition_of(const pipeline::transaction& tx) {
  return static_cast<std::int32_t>(std::hash<std::string>{}(tx.user_id) % partitions);
}

// A consumer of two partitions whose assignment the test moves. Offsets are
// indexes into each partition's records.
class handover_source final : public record_source {
 public:
  explicit handover_source(const std::vector<pipeline::transaction>& txs) {
    for (std::size_t i = 0; i < txs.size(); ++i)
      log_[partition_of(txs[i])].push_back({i, txs[i]});
    pending_assignment_ = {0, 1};
  }

  std::size_t poll(work_batch& out, std::size_t max) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t added = 0;
    for (bool progress = true; progress && added < max;) {
      progress = false;
      for (auto p : reading_) {
        auto& next = next_[p];
        if (added == max || next >= static_cast<std::int64_t>(log_[p].size()))
          continue;
        work_item item;
        item.sequence = log_[p][next].first;
        item.tx = log_[p][next].second;
        item.position = {p, next};
        out.push_back(std::move(item));
        ++next;
        ++added;
        progress = true;
      }
    }
    return added;
  }
  partition_positions positions() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    partition_positions out;
    for (auto p : owned_)
      out[p] = next_.count(p) ? next_.at(p) : 0;
    return out;
  }
  bool exhausted() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (reading_.size() != partitions)
      return false;
    for (const auto& [p, records] : log_)
      if (next_.count(p) == 0 || next_.at(p) < static_cast<std::int64_t>(records.size()))
        return false;
    return true;
  }
  std::vector<std::int32_t> pending_assignment() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_assignment_;
  }
  void complete_assignment(const partition_positions& positions) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto p : pending_assignment_) {
      next_[p] = positions.count(p) ? positions.at(p) : 0;
      owned_.insert(p);
      reading_.insert(p);
    }
    pending_assignment_.clear();
  }
  std::vector<std::int32_t> pending_revocation() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_revocation_;
  }
  void complete_revocation() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto p : pending_revocation_) {
      owned_.erase(p);
      next_.erase(p);  // the next owner resumes from the checkpoint
      released_at_.push_back(saves_seen_());
    }
    pending_revocation_.clear();
  }

  // The test's side: the group moves partition `p` away and back.
  void revoke(std::int32_t p) {
    std::lock_guard<std::mutex> lock(mutex_);
    reading_.erase(p);
    pending_revocation_ = {p};
  }
  void assign(std::int32_t p) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_assignment_ = {p};
  }
  bool owns(std::int32_t p) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return owned_.count(p) && pending_revocation_.empty();
  }
  std::vector<std::size_t> released_at() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return released_at_;
  }
  std::function<std::size_t()> saves_seen_;

 private:
  mutable std::mutex mutex_;
  std::map<std::int32_t, std::vector<std::pair<std::uint64_t, pipeline::transaction>>> log_;
  std::map<std::int32_t, std::int64_t> next_;
  std::set<std::int32_t> owned_, reading_;
  std::vector<std::int32_t> pending_assignment_, pending_revocation_;
  std::vector<std::size_t> released_at_;  ///< saves stored when each release happened
};

// Keeps the newest state of every key and partition, like Redis.
class memory_store final : public snapshot_store {
 public:
  std::optional<pipeline::store_snapshot> load_node() override { return std::nullopt; }
  pipeline::store_snapshot claim_partitions(const std::vector<std::int32_t>& ps) override {
    std::lock_guard<std::mutex> lock(mutex_);
    pipeline::store_snapshot out;
    for (auto p : ps)
      out.absorb(pipeline::partition_part(stored_, p));
    return out;
  }
  void save(const pipeline::store_snapshot& s) override {
    std::lock_guard<std::mutex> lock(mutex_);
    stored_.absorb(pipeline::store_snapshot(s));  // an upsert, like Redis
    ++saves_;
  }
  std::size_t saves() {
    std::lock_guard<std::mutex> lock(mutex_);
    return saves_;
  }
  pipeline::store_snapshot stored() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stored_;
  }

 private:
  std::mutex mutex_;
  pipeline::store_snapshot stored_;
  std::size_t saves_ = 0;
};

template <class Predicate>
bool wait_until(Predicate done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Users of partition `p` after a replay of its first `offset` records.
pipeline::user_map
replayed_users(const std::vector<pipeline::transaction>& txs, std::int32_t p, std::int64_t offset) {
  pipeline::feature_store replay;
  std::int64_t seen = 0;
  for (const auto& tx : txs)
    if (partition_of(tx) == p && seen++ < offset)
      replay.features(tx, true);
  return replay.users();
}

} // namespace

TEST_CASE("a revoked partition is checkpointed before release and resumes from it when assigned",
          "[integration][pipeline]") {
  pipeline::simulator_options so;
  so.seed = 12;
  so.expected_count = 6'000;
  pipeline::transaction_simulator sim{so};
  std::vector<pipeline::transaction> txs;
  for (int i = 0; i < 6'000; ++i)
    txs.push_back(sim.next().tx);

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  models::model_registry registry{testing::trained_registry()};
  auto config = std::make_shared<config::runtime_config>();
  config->batch_size = 64;
  config->snapshot_interval_ms = 3'600'000;  // only hand-overs checkpoint
  auto source = std::make_shared<handover_source>(txs);
  auto store = std::make_shared<memory_store>();
  source->saves_seen_ = [store] { return store->saves(); };
  auto publisher = std::make_shared<testing::recording_publisher>(std::chrono::milliseconds(2));
  auto handles = start_pipeline(
    sys, {source, publisher, store, models::load_scoring_model(registry, registry.production()->version),
          config, {}, nullptr});
  struct stop_at_exit {  // a failed REQUIRE must not leave actors running
    pipeline_handles& handles;
    ~stop_at_exit() {
      stop_pipeline(handles);
      handles = {};
    }
  } stopper{handles};

  REQUIRE(wait_until([&] { return publisher->seen().size() >= 1'500; }, std::chrono::seconds(60)));
  source->revoke(1);
  REQUIRE(wait_until([&] { return !source->released_at().empty(); }, std::chrono::seconds(60)));
  CHECK(source->released_at().front() >= 1);  // a checkpoint was stored before the release
  auto handed_over = pipeline::partition_part(store->stored(), 1);
  REQUIRE(handed_over.positions.count(1) == 1);
  auto offset = handed_over.positions.at(1);
  CHECK(offset > 0);
  auto expected = replayed_users(txs, 1, offset);
  std::size_t equal = 0;
  for (const auto& [id, state] : expected)
    equal += handed_over.users.count(id) && handed_over.users.at(id) == state ? 1 : 0;
  CHECK(equal == expected.size());
  CHECK(handed_over.users.size() == expected.size());

  source->assign(1);  // it comes back: resume from the checkpoint
  caf::scoped_actor self{sys};
  bool drained = false;
  self->request(handles.source, std::chrono::seconds(120), drained_atom::value)
    .receive([&](bool) { drained = true; }, [&](caf::error&) {});
  REQUIRE(drained);
  auto seen = publisher->seen();
  std::set<std::string> ids;
  for (const auto& [id, version] : seen)
    ids.insert(id);
  CHECK(ids.size() == txs.size());   // none lost
  CHECK(seen.size() == txs.size());  // none scored twice

  auto final_state = store->stored();
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto all = replayed_users(txs, p, static_cast<std::int64_t>(txs.size()));
    std::size_t same = 0;
    for (const auto& [id, state] : all)
      same += final_state.users.count(id) && final_state.users.at(id) == state ? 1 : 0;
    CHECK(same == all.size());
  }
}
