#pragma once
// The membership actor (see membership_actor in actor_interfaces.h): a thin
// shell over cluster::member_table that does its I/O.

#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <memory>

namespace vigil::connectors {
class cluster_registry;
}

namespace vigil::actors {

/// Detached (the registry's Redis calls block). `local_peer` answers this
/// node's own status; `config` carries the token this node joins with.
membership_actor spawn_membership(caf::actor_system& sys, cluster::member_record self,
                                  std::shared_ptr<connectors::cluster_registry> registry,
                                  cluster_peer_actor local_peer, config_ptr config);

} // namespace vigil::actors
