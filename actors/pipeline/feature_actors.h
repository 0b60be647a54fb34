#pragma once
// Keyed feature actors. User shards fill user features and forward each
// batch, split by merchant, to every merchant shard; merchant shards join
// the parts, fill merchant features and hand the batch to a scorer.

#include "actors/pipeline/actor_interfaces.h"
#include "pipeline/stream/keyed_shards.h"

#include <caf/fwd.hpp>

#include <memory>
#include <unordered_map>
#include <vector>

namespace vigil::pipeline {
struct state_bounds;
}

namespace vigil::actors {

using merchant_map = pipeline::merchant_map;

/// A user shard (see user_shard_actor) that starts with `restored` users.
user_shard_actor spawn_user_feature_actor(caf::actor_system& sys, int shard_index,
                                    std::vector<merchant_shard_actor> merchant_shards,
                                    std::int64_t allowed_lateness_ms, const pipeline::state_bounds& bounds,
                                    snapshot_ptr restored);

/// A merchant shard (see merchant_shard_actor) joining the parts of
/// `user_shard_count` user shards, starting with `restored` merchants.
merchant_shard_actor spawn_merchant_feature_actor(caf::actor_system& sys, int shard_index,
                                        int user_shard_count, std::vector<scorer_actor> scorers,
                                        std::int64_t allowed_lateness_ms, const pipeline::state_bounds& bounds,
                                        std::shared_ptr<merchant_map> restored);

} // namespace vigil::actors
