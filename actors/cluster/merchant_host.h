#pragma once
// The merchant host (merchant_host_actor in actor_interfaces.h): this
// node's share of the cluster's global merchant shards. Every second it
// works out, from the members it is linked to (the route board), which
// shards are its own (rendezvous hashing, cluster/merchant_placement.h);
// it claims those in Redis, loads each one's checkpoint and replays its
// log, renews the leases, checkpoints, and gives up, checkpointed, the
// shards another member now holds.
//
// Each request's changes go to the shard's log in Redis as it is answered.
// While Redis is unreachable the changes wait in memory, in order (at most
// max_unlogged entries a shard; past that the shard refuses updates and the
// senders wait), and scoring goes on; the source's checkpoints ask every
// shard they cover to sync first, so no checkpoint covers a change that is
// only in memory, and a holder that dies loses nothing a checkpoint relies
// on. Detached: it blocks on Redis (2 s at most a call, and after a failure
// it tries again after 1, 2, 4, then 8 s, not per request).

#include "actors/cluster/predict_router.h"
#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace vigil::actors {

/// The global merchant shards a node holds, as its host last published.
using merchant_shard_board = cluster::snapshot_board<std::vector<std::int32_t>>;

struct merchant_host_wiring {
  std::string redis;
  std::string prefix;      ///< the pipeline's checkpoint prefix
  std::string node_name;
  std::string incarnation;
  config_ptr config;       ///< lateness and the bound on keys HTTP created
  std::shared_ptr<const predict_route_board> routes;  ///< who is linked, published by membership
  std::shared_ptr<merchant_shard_board> held;         ///< where it publishes the shards it holds
};

merchant_host_actor spawn_merchant_host(caf::actor_system& sys, merchant_host_wiring w);

/// The node holding global merchant shard `shard` as `routes` see the
/// cluster (this node's own peer when it is this node): an invalid handle
/// when there are no routes yet.
cluster_peer_actor merchant_shard_route(const predict_routes& routes, int shard);

} // namespace vigil::actors
