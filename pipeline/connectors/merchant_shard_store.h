#pragma once
// Where the cluster's global merchant shards live in Redis, and who holds
// each one:
//   <prefix>:merchants:<N>         "m:<merchant>" per merchant, "marks" (the
//                                  high-water marks), "answers" (features
//                                  answered for records no partition
//                                  checkpoint covers yet), at the last
//                                  checkpoint
//   <prefix>:merchants:<N>:log     every update applied since, in order
//   <prefix>:merchants:<N>:holder  the lease of the node holding shard N
//   <prefix>:merchants:<N>:epoch   raised each time a holder takes the
//                                  lease anew, so a holder whose lease
//                                  lapsed can tell whether another node
//                                  held the shard meanwhile
// A holder appends each request's changes to the log before it answers,
// so nothing it answered is lost with it: the next holder loads the
// checkpoint and replays the log. Every write checks the lease in the same
// Lua script, so a holder that lost its lease (frozen past the TTL) writes
// nothing more. One connection, kept open (the log is written per
// request), with a 2 s command timeout.

#include "pipeline/cluster/hosted_merchant_shard.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct redisContext;

namespace vigil::connectors {

class merchant_shard_store {
 public:
  /// `holder`: this node's lease value (node name and incarnation).
  merchant_shard_store(std::string address, std::string prefix, std::string holder,
                       std::chrono::milliseconds lease_ttl);
  ~merchant_shard_store();

  struct lease {
    std::int64_t epoch = 0;
    bool store_lost = false;  ///< no epoch was stored: Redis lost the shard's data
  };
  /// Takes shard `shard`'s lease if it is free (raising the epoch) or
  /// already this holder's (the epoch as it is); nullopt when another
  /// holder has it.
  std::optional<lease> claim(int shard);
  /// Extends this holder's leases, in one call; per shard, false when it is
  /// no longer this holder's.
  std::vector<bool> renew(const std::vector<int>& shards);
  /// Gives the lease up (if this holder still has it).
  void release(int shard);

  struct stored {
    pipeline::merchant_map merchants;
    cluster::high_water_marks marks;
    std::string answers;           ///< hosted_merchant_shard::encode_answers
    std::vector<std::string> log;  ///< encoded merchant updates, oldest first
  };
  /// The shard's checkpoint and log. Throws std::runtime_error when Redis
  /// fails or an entry is corrupt.
  stored load(int shard);
  /// Appends one encoded entry to the log; false when the lease is gone.
  bool append(int shard, const std::string& entry);
  /// Appends each shard's entries, in order, to its log, in one call (one
  /// round trip for a request that touched many shards); per shard, false
  /// when its lease is gone (nothing of it appended).
  std::vector<bool> append_many(const std::vector<std::pair<int, std::vector<std::string>>>& entries);
  /// Upserts `changed` (merchants and removals), stores `marks` and
  /// `answers`, empties the log, atomically; false when the lease is gone.
  bool checkpoint(int shard, const pipeline::store_snapshot& changed, const cluster::high_water_marks& marks,
                  const std::string& answers);
  /// The positions (next offset to read) of these input partitions' last
  /// checkpoints; a partition never checkpointed is absent.
  std::map<std::int32_t, std::int64_t> checkpointed_positions(const std::vector<std::int32_t>& partitions);

  /// Every error above throws std::runtime_error (Redis unreachable, a
  /// reply not understood) after closing the connection; the next call
  /// opens a new one.
 private:
  std::string key(int shard) const;
  redisContext* connection();
  template <class F>
  auto guarded(F&& f) -> decltype(f(static_cast<redisContext*>(nullptr)));
  std::string address_, prefix_, holder_;
  std::chrono::milliseconds ttl_;
  struct connection_holder;
  std::unique_ptr<connection_holder> conn_;
};

/// Every merchant stored in the pipeline's global shards, each shard's log
/// replayed over its checkpoint: what a new holder would load. For tests
/// and tools.
pipeline::merchant_map load_all_merchant_shards(const std::string& address, const std::string& prefix,
                                                std::int64_t allowed_lateness_ms);

} // namespace vigil::connectors
