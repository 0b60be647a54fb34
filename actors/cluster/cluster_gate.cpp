// The gate a node publishes on its cluster port: it hands the node's peer
// actor to members that join with the cluster's token.

#include "actors/cluster/cluster_gate.h"

#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "config/token_file.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <iostream>

namespace vigil::actors {
namespace {

struct gate_state {
  std::string token;
};

cluster_gate_actor::behavior_type run_gate(cluster_gate_actor::stateful_pointer<gate_state> self,
                                           cluster_peer_actor peer, config_ptr config) {
  self->state.token = config->auth_token;
  auto& joined = pipeline::metrics().get_counter("vigil_cluster_joins_total",
                                                 "Nodes that joined through this node's gate with the token");
  auto& refused = pipeline::metrics().get_counter(
    "vigil_cluster_joins_refused_total", "Join requests at this node's gate refused: not the cluster's token");
  return {
    [=, &joined, &refused](join_atom, const std::string& token) -> cluster_peer_actor {
      if (!config::same_secret(token, self->state.token)) {
        refused.add(1);
        std::cerr << "vigil: refused a cluster join with a wrong token\n";
        return {};
      }
      joined.add(1);
      return peer;
    },
    [=](config_atom, config_ptr next) { self->state.token = next->auth_token; },
  };
}

} // namespace

cluster_gate_actor spawn_cluster_gate(caf::actor_system& sys, cluster_peer_actor peer, config_ptr config) {
  return sys.spawn(run_gate, std::move(peer), std::move(config));
}

} // namespace vigil::actors
