#pragma once
// Keyed state of the streaming pipeline, as plain C++: user and merchant
// shards and the join of a batch's parts. The feature actors only move
// batches between these objects. Every function here is deterministic.

#include "pipeline/stream/recency_list.h"
#include "pipeline/stream/work_item.h"
#include "pipeline/features/feature_extractor.h"
#include "pipeline/features/indexed_states.h"

#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace vigil::pipeline {

/// How state stays bounded under any input. Keys idle for state_ttl_ms of
/// event time are forgotten; keys that only HTTP created (no input
/// partition owns them) are at most `max_http_keys` per shard, the least
/// recently used forgotten first.
struct state_bounds {
  std::size_t max_http_keys = 10'000;
  /// A key is forgotten once the shard's stream is this far past its TTL;
  /// the margin keeps a record that lags its shard by less than a day
  /// scored exactly as if nothing had been forgotten.
  std::int64_t forget_margin_ms = day_ms;
};

/// Per-user state of one shard (users whose id hashes to it), each tagged
/// with the input partition that owns it.
class user_shard {
 public:
  explicit user_shard(std::int64_t allowed_lateness_ms, state_bounds bounds = {})
    : lateness_ms_(allowed_lateness_ms), bounds_(bounds) {}
  /// Fills transaction and user features of each item from state before it
  /// (expired state reads as absent); when `update`, folds each item into
  /// state (in batch order) and tags the user with the item's partition.
  void process(work_batch& items, bool update);
  const pipeline::user_map& users() const { return users_.all(); }
  /// A copy of the users changed since the last copy (every user when
  /// `all`), with their owner tags, and of the users forgotten since; they
  /// count as unchanged afterwards. Checkpoints are upserts plus deletes,
  /// so a store holding the earlier copies holds every user. Forgets the
  /// users idle beyond their TTL first.
  pipeline::store_snapshot copy_state(bool all);
  /// Adds (or replaces) users restored from a checkpoint (they are stored,
  /// so they count as unchanged).
  void install(pipeline::store_snapshot&& restored);
  /// Forgets the users of these partitions; returns how many.
  std::size_t drop_partitions(const std::vector<std::int32_t>& partitions);
  /// A label for one of the user's transactions became known (/feedback).
  /// A user this shard does not hold is left alone (false): no state is
  /// created for a label alone.
  bool apply_label(const std::string& user_id, std::int64_t event_time_ms, bool is_fraud);
  std::uint64_t late_records() const { return late_; }
  void set_allowed_lateness(std::int64_t ms) { lateness_ms_ = ms; }
  /// Users forgotten so far (expired or pushed out of the HTTP bound).
  std::uint64_t forgotten() const { return forgotten_; }

 private:
  void forget(const std::string& id);
  std::int64_t lateness_ms_;
  state_bounds bounds_;
  indexed_states<user_state> users_;
  std::unordered_map<std::string, std::int32_t> partitions_;
  std::unordered_set<std::string> changed_;
  std::unordered_map<std::string, std::int32_t> removed_;
  recency_list http_users_;  ///< users no partition owns, by last touch
  /// Newest event time the stream (not HTTP) applied here.
  std::int64_t stream_time_ms_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t late_ = 0;
  std::uint64_t forgotten_ = 0;
};

/// Per-merchant state of one shard.
class merchant_shard {
 public:
  explicit merchant_shard(std::int64_t allowed_lateness_ms, state_bounds bounds = {})
    : lateness_ms_(allowed_lateness_ms), bounds_(bounds) {}
  void process(work_batch& items, bool update);
  /// A label for a merchant no record brought counts against the HTTP bound.
  void apply_label(const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud);
  const pipeline::merchant_map& merchants() const { return merchants_.all(); }
  /// Like user_shard::copy_state, for merchants.
  pipeline::store_snapshot copy_state(bool all);
  void install(pipeline::merchant_map&& restored);
  std::uint64_t late_records() const { return late_; }
  void set_allowed_lateness(std::int64_t ms) { lateness_ms_ = ms; }
  std::uint64_t forgotten() const { return forgotten_; }

 private:
  void forget(const std::string& id);
  /// A merchant the stream has not brought: counted, oldest forgotten.
  void touch_unowned(const std::string& id);
  std::int64_t lateness_ms_;
  state_bounds bounds_;
  indexed_states<merchant_state> merchants_;
  std::unordered_set<std::string> changed_;
  std::unordered_set<std::string> removed_;
  recency_list http_merchants_;  ///< merchants only HTTP or labels brought
  std::int64_t stream_time_ms_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t late_ = 0;
  std::uint64_t forgotten_ = 0;
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
    std::vector<work_batch> parts;  ///< as received, each in sequence order
  };
  int parts_;
  std::uint64_t next_;
  std::map<std::uint64_t, entry> pending_;
};

/// Shard index of a key: stable across processes and restarts.
int shard_of(const std::string& key, int shards);

/// Moves `items` into `shards` parts by shard_of(key_of(item)), each part
/// in the batch's order and allocated once.
template <class KeyOf>
std::vector<work_batch> split_by_shard(work_batch& items, int shards, KeyOf key_of) {
  std::vector<int> shard(items.size());
  std::vector<std::size_t> sizes(static_cast<std::size_t>(shards));
  for (std::size_t i = 0; i < items.size(); ++i)
    ++sizes[static_cast<std::size_t>(shard[i] = shard_of(key_of(items[i]), shards))];
  std::vector<work_batch> parts(static_cast<std::size_t>(shards));
  for (std::size_t j = 0; j < parts.size(); ++j)
    parts[j].reserve(sizes[j]);
  for (std::size_t i = 0; i < items.size(); ++i)
    parts[static_cast<std::size_t>(shard[i])].push_back(std::move(items[i]));
  return parts;
}

} // namespace vigil::pipeline
