#pragma once
// The gate (published on the cluster port) and the peer actor it hands out;
// see cluster_gate_actor and cluster_peer_actor in actor_interfaces.h.
// The peer is in cluster_peer.cpp.

#include "actors/cluster/merchant_host.h"
#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace vigil::actors {

/// Who this node is to its peers.
struct peer_identity {
  std::string node_name, incarnation;
  std::string partitioner;  ///< the producers' (config input_partitioner)
  std::shared_ptr<const std::atomic<std::int32_t>> config_version;
  std::shared_ptr<const std::atomic<std::int64_t>> settings_version;
  std::shared_ptr<const cluster::ownership_board> ownership;  ///< the partitions this node reads
  std::shared_ptr<const merchant_shard_board> merchant_shards;  ///< the merchant shards it holds
};


/// Answers status requests from the source's partitions, the served
/// model's version and the config version; answers forwarded /predict
/// calls through `gateway` for the users whose partitions this node reads
/// (who.ownership), and refuses the others; passes merchant requests to
/// `merchant_host`, and peers' labels, rows and retrains to `coordinator`.
cluster_peer_actor spawn_cluster_peer(caf::actor_system& sys, peer_identity who, source_actor source,
                                      serving_model_actor model_owner, predict_gateway_actor gateway,
                                      merchant_host_actor merchant_host, retrain_coordinator_actor coordinator);

/// Hands `peer` to whoever presents `config`'s auth_token (or a rotated one).
cluster_gate_actor spawn_cluster_gate(caf::actor_system& sys, cluster_peer_actor peer, config_ptr config);

} // namespace vigil::actors
