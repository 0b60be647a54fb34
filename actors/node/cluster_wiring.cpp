// The node as a cluster member: joining (gate, peer, membership), and
// adopting the settings another node shared.

#include "actors/node/node_internals.h"

#include "actors/cluster/drift_sharing.h"
#include "actors/cluster/merchant_host.h"
#include "models/serving/scoring_model.h"
#include "pipeline/connectors/cluster_registry.h"
#include "pipeline/connectors/cluster_settings.h"
#include "pipeline/connectors/drift_count_store.h"
#include "pipeline/connectors/redis_snapshot_store.h"

#include <caf/all.hpp>

#include <iostream>

namespace vigil::actors {

void vigil_node::impl::join_cluster(const config_ptr& cfg) {
  if (!config::clustered(*cfg))
    return;
  const auto prefix = connectors::checkpoint_prefix(cfg->consumer_group, cfg->input_topic);
  cluster::member_record self;
  self.node_name = node_name;
  const bool everywhere = cfg->cluster_address == "0.0.0.0" || cfg->cluster_address == "::";
  self.host = !cfg->cluster_advertise.empty() ? cfg->cluster_advertise
              : everywhere                    ? host_name()
                                              : cfg->cluster_address;
  self.http_address = self.host + ":" + std::to_string(server->port());
  self.cluster_port = static_cast<std::uint16_t>(cfg->cluster_advertise_port);  // 0: the port bound
  self.started_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  self.incarnation = cluster::new_incarnation();
  auto held = std::make_shared<merchant_shard_board>();
  merchant_host = spawn_merchant_host(system, {cfg->redis, prefix, node_name, self.incarnation, cfg, routes, held});
  cluster_wiring w{self,
                   cfg->cluster_address,
                   static_cast<std::uint16_t>(cfg->cluster_port),
                   cfg,
                   pipeline.source,
                   pipeline.model_owner,
                   gateway,
                   config_version,
                   settings_version,
                   // A member silent for 5 s (no renewal) leaves the list.
                   std::make_shared<connectors::cluster_registry>(cfg->redis, prefix, std::chrono::seconds(5)),
                   routes,
                   ownership,
                   merchant_host,
                   coordinator,
                   held,
                   {shared, [this](const connectors::shared_settings& s) { return adopt(s); }}};
  cluster = start_cluster_membership(system, std::move(w));
  drift_sharing = spawn_drift_sharing(
    system, drift_view,
    std::make_shared<connectors::drift_count_store>(cfg->redis, prefix, node_name + ":" + self.incarnation));
  std::cerr << "vigil: cluster member " << node_name << " on " << self.host << ":" << cluster.port << "\n";
}

std::string vigil_node::impl::adopt(const connectors::shared_settings& settings) {
  std::lock_guard<std::mutex> lock(config_mutex);
  std::string problems;
  const auto origin = "cluster settings v" + std::to_string(settings.version) + " (" + settings.origin + ")";
  if (!settings.live.is_null() && settings.live != config::live_fields(history.current().config)) {
    config::runtime_config next;
    model_switch models;
    auto errors = config::apply_patch(history.current().config, settings.live, true, next);
    if (errors.empty())
      errors = switch_to(next, models);
    if (errors.empty())
      errors = commit(next, [&] { return history.update(settings.live, origin); }, models, false);
    for (const auto& e : errors)
      problems += (problems.empty() ? "" : "; ") + e.field + ": " + e.reason;
  }
  if (settings.model > 0 && settings.model != adopted_model) {
    try {
      // The registry folder is shared: the promoting node set the stage.
      caf::anon_send(pipeline.model_owner, model_atom::value, models::load_scoring_model(registry, settings.model));
      adopted_model = settings.model;
    } catch (const std::exception& e) {
      problems += (problems.empty() ? "" : "; ") + std::string("model v") + std::to_string(settings.model) + ": " +
                  e.what();
    }
  }
  *settings_version = settings.version;
  if (!problems.empty())
    std::cerr << "vigil: " << origin << " not adopted whole: " << problems << "\n";
  return problems;
}

} // namespace vigil::actors
