#pragma once
// Keyed state of the streaming pipeline, as plain C++: user and merchant
// shards and the join of a batch's parts. The feature actors only move
// batches between these objects. Every function here is deterministic.

#include "pipeline/stream/work_item.h"
#include "pipeline/features/feature_extractor.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

namespace vigil::pipeline {

/// Per-user state of one shard (users whose id hashes to it), each tagged
/// with the input partition that owns it.
class user_shard {
 public:
  explicit user_shard(std::int64_t allowed_lateness_ms) : lateness_ms_(allowed_lateness_ms) {}
  /// Fills transaction and user features of each item from state before it;
  /// when `update`, folds each item into state (in batch order) and tags
  /// the user with the item's partition.
  void process(work_batch& items, bool update);
  const std::unordered_map<std::string, pipeline::user_state>& users() const { return users_; }
  /// A copy of the users changed since the last copy (every user when
  /// `all`), with their owner tags; they count as unchanged afterwards.
  /// Checkpoints are upserts, so a store holding the earlier copies holds
  /// every user.
  pipeline::store_snapshot copy_state(bool all);
  /// Adds (or replaces) users restored from a checkpoint (they are stored,
  /// so they count as unchanged).
  void install(pipeline::store_snapshot&& restored);
  /// Forgets the users of these partitions; returns how many.
  std::size_t drop_partitions(const std::vector<std::int32_t>& partitions);
  std::uint64_t late_records() const { return late_; }
  void set_allowed_lateness(std::int64_t ms) { lateness_ms_ = ms; }

 private:
  std::int64_t lateness_ms_;
  std::unordered_map<std::string, pipeline::user_state> users_;
  std::unordered_map<std::string, std::int32_t> partitions_;
  std::unordered_set<std::string> changed_;
  std::uint64_t late_ = 0;
};

/// Per-merchant state of one shard.
class merchant_shard {
 public:
  explicit merchant_shard(std::int64_t allowed_lateness_ms) : lateness_ms_(allowed_lateness_ms) {}
  void process(work_batch& items, bool update);
  void apply_label(const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud);
  const std::unordered_map<std::string, pipeline::merchant_state>& merchants() const { return merchants_; }
  /// Like user_shard::copy_state, for merchants.
  pipeline::store_snapshot copy_state(bool all);
  void install(std::unordered_map<std::string, pipeline::merchant_state>&& restored);
  std::uint64_t late_records() const { return late_; }
  void set_allowed_lateness(std::int64_t ms) { lateness_ms_ = ms; }

 private:
  std::int64_t lateness_ms_;
  std::unordered_map<std::string, pipeline::merchant_state> merchants_;
  std::unordered_set<std::string> changed_;
  std::uint64_t late_ = 0;
};

/// Joins the parts of each batch sent by `parts` upstream shards, and
/// releases whole batches in batch-id order with items sorted by sequence.
/// That makes merchant state independent of how upstream shards interleave.
class batch_assembler {
 public:
  explicit batch_assembler(int parts, std::uint64_t first_batch_id = 0)
    : parts_(parts), next_(first_batch_id) {}
  /// Adds one part; returns the batches that became releasable, in order.
  std::vector<std::pair<std::uint64_t, work_batch>> add(std::uint64_t batch_id, work_batch part);
  std::size_t pending() const { return pending_.size(); }

 private:
  struct entry {
    int received = 0;
    work_batch items;
  };
  int parts_;
  std::uint64_t next_;
  std::map<std::uint64_t, entry> pending_;
};

/// Shard index of a key: stable across processes and restarts.
int shard_of(const std::string& key, int shards);

} // namespace vigil::pipeline
