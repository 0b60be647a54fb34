#pragma once
// The membership actor (see membership_actor in actor_interfaces.h): a thin
// shell over cluster::member_table that does its I/O.

#include "actors/cluster/predict_router.h"
#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <string>

namespace vigil::connectors {
class cluster_registry;
class cluster_settings_store;
struct shared_settings;
}

namespace vigil::actors {

/// Where the cluster's shared settings are read, and how this node adopts a
/// newer version ("" or why not).
struct shared_settings_feed {
  std::shared_ptr<connectors::cluster_settings_store> store;
  std::function<std::string(const connectors::shared_settings&)> adopt;
};

/// Detached (the registry's Redis calls block, and so may adopting settings). `local_peer` answers this
/// node's own status; `config` carries the token this node joins with and
/// the producers' partitioner; after every round the partitions' owners and
/// the linked peers go to `routes`, and a newer version of the shared
/// settings is adopted through `settings`.
membership_actor spawn_membership(caf::actor_system& sys, cluster::member_record self,
                                  std::shared_ptr<connectors::cluster_registry> registry,
                                  cluster_peer_actor local_peer, config_ptr config,
                                  std::shared_ptr<predict_route_board> routes, shared_settings_feed settings);

} // namespace vigil::actors
