#pragma once
// This node as a member of its cluster: the gate published on the cluster
// port (the only actor a stranger can reach), the peer actor it hands to
// nodes that join with the cluster's token, and the membership actor that
// keeps this node registered in Redis and linked to every other member.

#include "actors/cluster/merchant_host.h"
#include "actors/cluster/membership_actor.h"

#include <atomic>

namespace vigil::actors {

/// Registers the types that cross nodes, and loads the middleman with
/// failure detection on: a peer silent for 2 s (a frozen process, a dead
/// host) is dropped, not only one whose socket closes.
void configure_cluster(caf::actor_system_config& cfg);

struct cluster_wiring {
  cluster::member_record self;  ///< cluster_port is filled in once bound
  std::string bind_address;
  std::uint16_t port = 0;        ///< 0: any free port
  config_ptr config;             ///< the token peers must present
  source_actor source;           ///< asked for the partitions it reads
  serving_model_actor model_owner;
  predict_gateway_actor gateway;  ///< answers forwarded /predict calls
  std::shared_ptr<const std::atomic<std::int32_t>> config_version;
  std::shared_ptr<const std::atomic<std::int64_t>> settings_version;  ///< the shared settings this node runs
  std::shared_ptr<connectors::cluster_registry> registry;
  std::shared_ptr<predict_route_board> routes;  ///< where membership publishes /predict's routes
  std::shared_ptr<const cluster::ownership_board> ownership;  ///< the partitions this node reads
  merchant_host_actor merchant_host;  ///< answers peers' merchant requests
  retrain_coordinator_actor coordinator;  ///< takes peers' labels, rows and retrains
  std::shared_ptr<const merchant_shard_board> merchant_shards;  ///< the shards it holds
  shared_settings_feed settings;
};

struct cluster_handles {
  cluster_gate_actor gate;
  cluster_peer_actor peer;
  membership_actor membership;
  std::uint16_t port = 0;  ///< the cluster port bound
};

/// Publishes the gate, then starts the membership actor. Throws
/// std::runtime_error naming the address when the port cannot be opened.
cluster_handles start_cluster_membership(caf::actor_system& sys, cluster_wiring w);

} // namespace vigil::actors
