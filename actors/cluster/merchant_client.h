#pragma once
// A node's local merchant shard when merchant state is cluster-wide: it
// joins a batch's parts from the user shards as the single-node shard does,
// then gets the merchant features from the node holding each merchant's
// global shard (merchant_host.h), and hands the whole batch to a scorer.
// It holds no merchant state itself. A shard that cannot be reached (its
// holder died, or is still loading it) is retried every 100 ms: the batch
// waits, the source runs out of credit and pauses; no record is scored
// without its merchant's state.

#include "actors/cluster/predict_router.h"
#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <memory>
#include <vector>

namespace vigil::actors {

/// Local merchant shard `index` (see merchant_shard_actor) of a clustered
/// node, joining the parts of `user_shard_count` user shards. The node's
/// merchant_shards must divide cluster::merchant_shard_count, so that each
/// global shard's merchants pass through one local shard, in order.
merchant_shard_actor spawn_merchant_client(caf::actor_system& sys, int index, int user_shard_count,
                                           std::vector<scorer_actor> scorers,
                                           std::shared_ptr<const predict_route_board> routes);

} // namespace vigil::actors
