#include "pipeline/connectors/kafka_decision_publisher.h"
#include "pipeline/connectors/kafka_record_source.h"
#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "actors/node/node_internals.h"
#include "config/runtime_config.h"

#include <unistd.h>

namespace vigil::actors {
std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

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

} // namespace vigil::actors
