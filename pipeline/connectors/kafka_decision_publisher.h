#pragma once
// Publishes every decision to `fraud_predictions` and flagged ones to
// `fraud_alerts`, keyed by transaction_id (so a replayed decision is an
// idempotent overwrite for compacted or deduplicating consumers). A batch
// counts as delivered when the broker acknowledged all of its messages.

#include "pipeline/connectors/kafka_config.h"
#include "pipeline/connectors/decision_publisher.h"

#include <map>
#include <set>

namespace vigil::connectors {

class kafka_decision_publisher final : public decision_publisher {
 public:
  kafka_decision_publisher(const std::string& brokers, std::string predictions_topic,
                           std::string alerts_topic);
  ~kafka_decision_publisher() override;

  void publish(std::uint64_t batch_id, const decision_batch& decisions) override;
  void seal(std::uint64_t batch_id) override;
  std::vector<std::uint64_t> take_delivered() override;

 private:
  class delivery_handler;
  void produce(const std::string& topic, const std::string& key, const std::string& value,
               std::uint64_t batch_id);

  std::string predictions_topic_, alerts_topic_;
  std::unique_ptr<delivery_handler> delivery_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::map<std::uint64_t, std::int64_t> outstanding_;  ///< batch -> unacknowledged messages
  std::set<std::uint64_t> sealed_;
};

} // namespace vigil::connectors
