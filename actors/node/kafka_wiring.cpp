#include "pipeline/connectors/cluster_registry.h"
#include "pipeline/connectors/kafka_decision_publisher.h"
#include "pipeline/connectors/kafka_record_source.h"
#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "actors/node/node_internals.h"
#include "config/runtime_config.h"

#include <iostream>

#include <unistd.h>

namespace vigil::actors {
namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

} // namespace

void vigil_node::impl::attach_kafka(pipeline_parts& parts, const config::runtime_config& cfg) {
  const std::string& group = cfg.consumer_group;
  parts.source = std::make_shared<connectors::kafka_record_source>(cfg.brokers, group, cfg.input_topic,
                                                       cfg.input_topic + ".dlq", cfg.max_event_time_skew_ms);
  parts.publisher = std::make_shared<connectors::kafka_decision_publisher>(cfg.brokers, "fraud_predictions",
                                                               "fraud_alerts");
  // With Redis, partitions' state follows them between nodes; a file
  // belongs to one node.
  if (!cfg.redis.empty()) {
    node_name = cfg.node_name.empty() ? host_name() : cfg.node_name;
    auto store = std::make_shared<connectors::redis_snapshot_store>(
      cfg.redis, connectors::checkpoint_prefix(group, cfg.input_topic), node_name);
    // A crashed node's lease expires after 15 s, so its restart waits at
    // most that long; a second live node with the same name never starts.
    lease = std::make_shared<connectors::node_name_lease>(cfg.redis, store->lease_key(), std::chrono::seconds(15),
                                              std::chrono::seconds(20));
    store->require_lease(lease);
    parts.snapshots = store;
  } else
    parts.snapshots = std::make_shared<connectors::file_snapshot_store>(cfg.snapshot_path);
}

void vigil_node::impl::join_cluster(const config_ptr& cfg) {
  if (!config::clustered(*cfg))
    return;
  cluster::member_record self;
  self.node_name = node_name;
  const bool everywhere = cfg->cluster_address == "0.0.0.0" || cfg->cluster_address == "::";
  self.host = !cfg->cluster_advertise.empty() ? cfg->cluster_advertise
              : everywhere                    ? host_name()
                                              : cfg->cluster_address;
  self.http_address = self.host + ":" + std::to_string(server->port());
  self.started_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  self.incarnation = cluster::new_incarnation();
  cluster_wiring w{self,
                   cfg->cluster_address,
                   static_cast<std::uint16_t>(cfg->cluster_port),
                   cfg,
                   pipeline.source,
                   pipeline.model_owner,
                   config_version,
                   // A member silent for 5 s (no renewal) leaves the list.
                   std::make_shared<connectors::cluster_registry>(
                     cfg->redis, connectors::checkpoint_prefix(cfg->consumer_group, cfg->input_topic),
                     std::chrono::seconds(5))};
  cluster = start_cluster_membership(system, std::move(w));
  std::cerr << "vigil: cluster member " << node_name << " on " << self.host << ":" << cluster.port << "\n";
}

} // namespace vigil::actors
