#pragma once
// Checkpoints in Redis, one hash per input partition plus one per node:
//   <prefix>:partition:<N>         "position" and "u:<user>" per user of N
//   <prefix>:partition:<N>:owner   ownership epoch of partition N
//   <prefix>:node:<name>           "m:<merchant>", "u:<user>" (users no
//                                  partition owns), "saved_at_ms"
// and, per hash, the committed deltas not folded into it yet (see
// checkpoint_deltas.h). A save writes what changed since the last one into
// deltas, in chunks, then commits every hash's delta and position in one
// small Lua script (atomic), so a partition's users and offset always agree
// and a partition's state can move to whichever node is assigned it next;
// then folds the deltas in. No command of a save holds Redis for long.
// Claiming a partition raises its epoch; a save writes nothing unless every
// partition it covers still has the epoch this store claimed, so a node
// that lost its partitions without noticing (a zombie) cannot overwrite the
// new owner's checkpoint; and a save that reaches Redis after a newer one
// (it timed out on the client first) is refused too. A save that finds no
// epoch at all (Redis restarted without its data) claims the partitions
// again and fails, so the next checkpoint stores all state, not only what
// changed.

#include "pipeline/connectors/snapshot_store.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

struct redisContext;

namespace vigil::pipeline {
class counter;
}

namespace vigil::connectors {

class node_name_lease;

/// "vigil:checkpoint:<group>:<topic>": the key prefix of one pipeline.
std::string checkpoint_prefix(const std::string& group, const std::string& topic);

class redis_snapshot_store final : public snapshot_store {
 public:
  /// `address` is host:port; `prefix` names this pipeline (group + topic);
  /// `node_name` names this node's part.
  redis_snapshot_store(std::string address, std::string prefix, std::string node_name);
  /// Throw std::runtime_error when Redis is unreachable, answers an error
  /// or holds a corrupt entry.
  std::optional<pipeline::store_snapshot> load_node() override;
  pipeline::store_snapshot claim_partitions(const std::vector<std::int32_t>& partitions) override;
  /// Reads without claiming (inspection, tests).
  pipeline::store_snapshot load_partitions(const std::vector<std::int32_t>& partitions);
  void save(const pipeline::store_snapshot& s) override;
  /// PING: true when the server answers.
  static bool reachable(const std::string& address);

  std::string partition_key(std::int32_t partition) const;
  std::string node_key() const;
  /// Where the node_name lease of this node lives.
  std::string lease_key() const;
  /// From now on a save lands only while `lease` still holds (set before
  /// the pipeline starts).
  void require_lease(std::shared_ptr<const node_name_lease> lease);

 private:
  std::string address_, prefix_, node_name_;
  std::mutex epochs_mutex_;  ///< claims (source actor) race saves (save worker)
  std::map<std::int32_t, std::string> epochs_;  ///< claimed ownership epochs
  std::atomic<std::uint64_t> saves_{0};  ///< orders this store's saves
  std::shared_ptr<const node_name_lease> lease_;
  pipeline::counter& lost_checkpoints_;
  pipeline::counter& fold_failures_;

  /// After a save found no epoch on a claimed partition (Redis restarted
  /// empty): puts back this node's epochs where no later claim exists, and
  /// says what it did, for the save's error.
  std::string reclaim_lost_partitions(redisContext* c, const std::map<std::int32_t, std::string>& epochs);
};

} // namespace vigil::connectors
