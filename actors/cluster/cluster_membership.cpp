#include "actors/cluster/cluster_membership.h"

#include "actors/cluster/cluster_gate.h"
#include "actors/cluster/membership_actor.h"
#include "actors/pipeline/vigil_atoms.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <stdexcept>

namespace vigil::actors {

void configure_cluster(caf::actor_system_config& cfg) {
  using namespace std::chrono_literals;
  cfg.load<caf::io::middleman>();
  cfg.add_message_type<cluster::node_status>("vigil::cluster::node_status");
  cfg.add_message_type<cluster_peer_actor>("vigil::actors::cluster_peer_actor");
  cfg.add_message_type<std::vector<std::int32_t>>("vigil::merchant_shards");
  cfg.add_message_type<merchant_answers>("merchant_answers");
  cfg.add_message_type<label_receipt>("label_receipt");
  cfg.add_message_type<retrain_start>("retrain_start");
  cfg.add_message_type<pipeline::label_event>("vigil::pipeline::label_event");
  cfg.add_message_type<std::vector<pipeline::label_event>>("vigil::labels");
  cfg.add_message_type<shared_label_row>("shared_label_row");
  cfg.add_message_type<std::vector<shared_label_row>>("vigil::shared_label_rows");
  // Off by default in CAF 0.17.6: without them a frozen peer is never dropped.
  cfg.set("middleman.heartbeat-interval", caf::timespan{500ms});
  cfg.set("middleman.connection-timeout", caf::timespan{2s});
  cfg.set("middleman.app-identifiers", std::vector<std::string>{"vigil-cluster-1"});
}

cluster_handles start_cluster_membership(caf::actor_system& sys, cluster_wiring w) {
  cluster_handles h;
  h.peer = spawn_cluster_peer(sys,
                              peer_identity{w.self.node_name, w.self.incarnation, w.config->input_partitioner,
                                            w.config_version, w.settings_version, w.ownership,
                                            w.merchant_shards},
                              w.source, w.model_owner, w.gateway, w.merchant_host, w.coordinator);
  h.gate = spawn_cluster_gate(sys, h.peer, w.config);
  auto bound = caf::io::publish(h.gate, w.port, w.bind_address.c_str(), true);
  if (!bound) {
    caf::anon_send_exit(h.gate, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(h.peer, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot open the cluster port " + w.bind_address + ":" + std::to_string(w.port) +
                             ": " + sys.render(bound.error()));
  }
  h.port = *bound;
  if (w.self.cluster_port == 0)  // else the port forwarded to this one
    w.self.cluster_port = h.port;
  h.membership = spawn_membership(sys, std::move(w.self), std::move(w.registry), h.peer, std::move(w.config),
                                  std::move(w.routes), std::move(w.settings));
  return h;
}

} // namespace vigil::actors
