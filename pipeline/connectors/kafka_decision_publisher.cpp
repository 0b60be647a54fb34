#include "pipeline/connectors/kafka_decision_publisher.h"

#include "models/serving/decision_json.h"
#include "pipeline/metrics/metrics_registry.h"

namespace vigil::connectors {

// Called from producer->poll() on the sink's thread.
class kafka_decision_publisher::delivery_handler final : public RdKafka::DeliveryReportCb {
 public:
  explicit delivery_handler(kafka_decision_publisher& owner) : owner_(owner) {}
  void dr_cb(RdKafka::Message& msg) override {
    auto batch_id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(msg.msg_opaque()));
    if (msg.err() != RdKafka::ERR_NO_ERROR) {
      // The idempotent producer already retried; produce again rather than
      // lose a decision (the batch stays undelivered until it lands).
      pipeline::metrics().get_counter("vigil_publish_retries_total", "Decisions produced again after a failed delivery").add();
      std::string key = msg.key() ? *msg.key() : std::string();
      std::string value(static_cast<const char*>(msg.payload()), msg.len());
      owner_.produce(msg.topic_name(), key, value, batch_id);
    }
    --owner_.outstanding_[batch_id];
  }

 private:
  kafka_decision_publisher& owner_;
};

kafka_decision_publisher::kafka_decision_publisher(const std::string& brokers,
                                                   std::string predictions_topic,
                                                   std::string alerts_topic)
  : predictions_topic_(std::move(predictions_topic)), alerts_topic_(std::move(alerts_topic)),
    delivery_(std::make_unique<delivery_handler>(*this)),
    producer_(make_producer(brokers, delivery_.get())) {}

kafka_decision_publisher::~kafka_decision_publisher() {
  producer_->flush(10'000);
}

void kafka_decision_publisher::produce(const std::string& topic, const std::string& key,
                                       const std::string& value, std::uint64_t batch_id) {
  for (;;) {
    auto rc = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                 const_cast<char*>(value.data()), value.size(), key.data(),
                                 key.size(), 0,
                                 reinterpret_cast<void*>(static_cast<std::uintptr_t>(batch_id)));
    if (rc == RdKafka::ERR_NO_ERROR)
      break;
    if (rc != RdKafka::ERR__QUEUE_FULL)
      throw kafka_error("produce to " + topic + ": " + RdKafka::err2str(rc));
    producer_->poll(10);  // bounded local queue: wait for acknowledgements
  }
  ++outstanding_[batch_id];
}

void kafka_decision_publisher::publish(std::uint64_t batch_id, const decision_batch& decisions) {
  outstanding_.emplace(batch_id, 0);
  for (const auto& d : decisions) {
    auto value = render_decision(d, true);
    if (d.shadow) {  // apart, and never an alert
      produce(predictions_topic_ + "_shadow", d.transaction_id, value, batch_id);
      continue;
    }
    produce(predictions_topic_, d.transaction_id, value, batch_id);
    if (d.decision != models::decision_kind::approve)
      produce(alerts_topic_, d.transaction_id, value, batch_id);
  }
  producer_->poll(0);
}

void kafka_decision_publisher::seal(std::uint64_t batch_id) {
  outstanding_.emplace(batch_id, 0);
  sealed_.insert(batch_id);
}

std::vector<std::uint64_t> kafka_decision_publisher::take_delivered() {
  producer_->poll(0);
  std::vector<std::uint64_t> done;
  for (auto it = sealed_.begin(); it != sealed_.end();) {
    auto out = outstanding_.find(*it);
    if (out != outstanding_.end() && out->second <= 0) {
      done.push_back(*it);
      outstanding_.erase(out);
      it = sealed_.erase(it);
    } else {
      ++it;
    }
  }
  return done;
}

} // namespace vigil::connectors
