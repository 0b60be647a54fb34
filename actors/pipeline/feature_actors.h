#pragma once
// Keyed feature actors. User shards fill user features and forward each
// batch, split by merchant, to every merchant shard; merchant shards join
// the parts, fill merchant features and hand the batch to a scorer.

#include "actors/pipeline/shard_logic.h"

#include <caf/fwd.hpp>

#include <memory>
#include <unordered_map>
#include <vector>

namespace vigil::actors {

using merchant_map = std::unordered_map<std::string, pipeline::merchant_state>;

/// Messages: (ubatch, id, batch_ptr) from the source; (predict, batch_ptr,
/// update) -> batch_ptr; (snapshot) -> snapshot_ptr with a copy of the
/// users and their partitions; (install, snapshot_ptr) adds restored users;
/// (revoke, partition_list_ptr) forgets the users of those partitions;
/// (config, config_ptr).
caf::actor spawn_user_feature_actor(caf::actor_system& sys, int shard_index,
                                    std::vector<caf::actor> merchant_shards,
                                    std::int64_t allowed_lateness_ms,
                                    snapshot_ptr restored);

/// Messages: (mpart, id, batch_ptr) from user shards; (label, merchant_id,
/// event_time_ms, is_fraud); (predict, batch_ptr, update) -> batch_ptr;
/// (snapshot) -> snapshot_ptr with a copy of the merchants; (config, config_ptr).
caf::actor spawn_merchant_feature_actor(caf::actor_system& sys, int shard_index,
                                        int user_shard_count, std::vector<caf::actor> scorers,
                                        std::int64_t allowed_lateness_ms,
                                        std::shared_ptr<merchant_map> restored);

} // namespace vigil::actors
