#include "actors/kafka/kafka_decision_publisher.h"
#include "actors/kafka/kafka_record_source.h"
#include "actors/kafka/redis_snapshot_store.h"
#include "actors/node/node_internals.h"
#include "config/runtime_config.h"

namespace vigil::actors {

void vigil_node::impl::attach_kafka(pipeline_parts& parts, const config::runtime_config& cfg) {
  const std::string& group = cfg.consumer_group;
  parts.source = std::make_shared<kafka_record_source>(cfg.brokers, group, cfg.input_topic,
                                                       cfg.input_topic + ".dlq");
  parts.publisher = std::make_shared<kafka_decision_publisher>(cfg.brokers, "fraud_predictions",
                                                               "fraud_alerts");
  if (!cfg.redis.empty())
    parts.snapshots = std::make_shared<redis_snapshot_store>(cfg.redis, "vigil:checkpoint:" + group + ":" + cfg.input_topic);
  else
    parts.snapshots = std::make_shared<file_snapshot_store>(cfg.snapshot_path);
}

} // namespace vigil::actors
