#include "pipeline/connectors/kafka_record_source.h"

#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/schema/transaction_json.h"

#include <algorithm>

namespace vigil::connectors {

// Runs inside consume(). It only records what changed; the source actor
// completes the change once state is saved (revoke) or restored (assign).
class kafka_record_source::rebalance_handler final : public RdKafka::RebalanceCb {
 public:
  explicit rebalance_handler(kafka_record_source& owner) : owner_(owner) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    pipeline::metrics().get_counter("vigil_rebalances_total", "Partition assignments and revocations").add();
    auto& o = owner_;
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS)
      o.ever_assigned_ = true;
    std::vector<std::int32_t> listed;
    for (auto* tp : partitions)
      listed.push_back(tp->partition());
    if (o.closing_) {
      // Closing (the final checkpoint is taken): apply changes at once, as
      // librdkafka would without this callback.
      if (err == RdKafka::ERR__ASSIGN_PARTITIONS)
        o.start_reading_or_count(partitions);
      else
        o.release(listed);
      return;
    }
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      // Nothing to restore (more members than partitions): acknowledge now,
      // or the group waits for this member's assign call forever.
      if (listed.empty())
        o.start_reading_or_count(partitions);
      else
        o.pending_assignment_.insert(listed.begin(), listed.end());
      return;
    }
    // A revocation, or a rebalance error (which drops the whole assignment
    // like a lost one). An assignment not yet started has read nothing: it
    // just goes.
    bool failed = err != RdKafka::ERR__REVOKE_PARTITIONS;
    if (failed)
      listed.assign(o.assigned_.begin(), o.assigned_.end());
    o.revocation_lost_ = failed || consumer->assignment_lost();
    o.pending_assignment_.clear();
    for (auto partition : listed)
      if (o.assigned_.count(partition))
        o.pending_revocation_.insert(partition);
    if (o.pending_revocation_.empty()) {
      o.release(listed);
      return;
    }
    // Records fetched but not taken are re-read by the partition's next owner.
    o.held_.erase(std::remove_if(o.held_.begin(), o.held_.end(),
                                 [&](const auto& m) { return !o.reading(m->partition()); }),
                  o.held_.end());
  }

 private:
  kafka_record_source& owner_;
};

kafka_record_source::kafka_record_source(const std::string& brokers, const std::string& group,
                                         const std::string& topic,
                                         const std::string& dead_letter_topic,
                                         std::int64_t max_event_time_skew_ms)
  : topic_(topic), dead_letter_topic_(dead_letter_topic), max_event_time_skew_ms_(max_event_time_skew_ms),
    rebalance_(std::make_unique<rebalance_handler>(*this)) {
  auto settings = stream_fetch_settings();
  settings.insert({{"bootstrap.servers", brokers},
                   {"group.id", group},
                   // A rebalance moves only the partitions that change owner.
                   {"partition.assignment.strategy", "cooperative-sticky"},
                   {"enable.auto.commit", "false"},
                   {"enable.auto.offset.store", "false"},
                   {"auto.offset.reset", "earliest"},
                   {"enable.partition.eof", "false"},
                   // A crashed node's partitions move after 10 s, not 45.
                   {"session.timeout.ms", "10000"}});
  auto conf = make_kafka_conf(settings);
  std::string error;
  if (conf->set("rebalance_cb", rebalance_.get(), error) != RdKafka::Conf::CONF_OK)
    throw kafka_error("rebalance_cb: " + error);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_)
    throw kafka_error("cannot create Kafka consumer: " + error);
  auto rc = consumer_->subscribe({topic});
  if (rc != RdKafka::ERR_NO_ERROR)
    throw kafka_error("subscribe to " + topic + ": " + RdKafka::err2str(rc));
  dead_letters_ = make_producer(brokers);
  // Registered up front: a counter that first appears at 1 hides that
  // increase from alerting rules.
  auto& m = pipeline::metrics();
  m.get_counter("vigil_dlq_records_total", "Records sent to the dead-letter topic");
  m.get_counter("vigil_kafka_errors_total", "Consumer errors");
  m.get_counter("vigil_rebalances_total", "Partition assignments and revocations");
  m.get_counter("vigil_records_left_to_next_owner_total",
                "Records fetched from a partition being revoked, left for its next owner");
}

kafka_record_source::~kafka_record_source() {
  if (dead_letters_)
    dead_letters_->flush(5000);
  closing_ = true;
  if (consumer_)
    consumer_->close();
  if (!ever_assigned_)
    consumer_.release();  // deliberately leaked: destroying it would abort (see ever_assigned_)
}

std::int32_t kafka_record_source::topic_partitions() {
  auto now = std::chrono::steady_clock::now();
  if (topic_partitions_ > 0 && now - topic_partitions_at_ < std::chrono::seconds(30))
    return topic_partitions_;
  RdKafka::Metadata* raw = nullptr;
  if (consumer_->metadata(true, nullptr, &raw, 2000) != RdKafka::ERR_NO_ERROR)
    return topic_partitions_;  // the last count known (0 if none)
  std::unique_ptr<RdKafka::Metadata> metadata{raw};
  for (const auto* topic : *metadata->topics())
    if (topic->topic() == topic_ && topic->err() == RdKafka::ERR_NO_ERROR)
      topic_partitions_ = static_cast<std::int32_t>(topic->partitions()->size());
  topic_partitions_at_ = now;
  return topic_partitions_;
}

bool kafka_record_source::reading(std::int32_t partition) const {
  return assigned_.count(partition) && !pending_revocation_.count(partition);
}

std::string kafka_record_source::position_key(std::int32_t partition) const {
  return topic_ + "/" + std::to_string(partition);
}

void kafka_record_source::dead_letter(const RdKafka::Message& msg, const std::string& reason) {
  auto* headers = RdKafka::Headers::create();
  headers->add("vigil-error", reason);
  headers->add("vigil-origin", position_key(msg.partition()) + "@" + std::to_string(msg.offset()));
  const std::string* key = msg.key();
  for (;;) {
    auto rc = dead_letters_->produce(dead_letter_topic_, RdKafka::Topic::PARTITION_UA,
                                     RdKafka::Producer::RK_MSG_COPY,
                                     const_cast<void*>(msg.payload()), msg.len(),
                                     key ? key->data() : nullptr, key ? key->size() : 0, 0,
                                     headers, nullptr);
    if (rc == RdKafka::ERR_NO_ERROR)
      break;
    if (rc != RdKafka::ERR__QUEUE_FULL) {
      delete headers;
      throw kafka_error("dead-letter produce: " + RdKafka::err2str(rc));
    }
    dead_letters_->poll(50);
  }
  pipeline::metrics().get_counter("vigil_dlq_records_total", "Records sent to the dead-letter topic").add();
}

std::size_t kafka_record_source::poll(work_batch& out, std::size_t max) {
  std::size_t added = 0;
  // consume(0) also serves rebalance callbacks, so it is called even with no
  // room (max == 0, paused). A record fetched without room is held, not lost;
  // pausing stops fetching, so the held queue is bounded by the prefetch.
  while (added < max && !held_.empty()) {
    added += accept(*held_.front(), out);
    held_.pop_front();
  }
  for (;;) {
    std::unique_ptr<RdKafka::Message> msg{consumer_->consume(0)};
    if (msg->err() == RdKafka::ERR__TIMED_OUT)
      break;
    if (msg->err() != RdKafka::ERR_NO_ERROR) {
      pipeline::metrics().get_counter("vigil_kafka_errors_total", "Consumer errors").add();
      break;
    }
    if (added >= max) {
      held_.push_back(std::move(msg));
      break;
    }
    added += accept(*msg, out);
  }
  dead_letters_->poll(0);
  report_lag();
  return added;
}

void kafka_record_source::report_lag() {
  auto now = std::chrono::steady_clock::now();
  if (now - lag_reported_at_ < std::chrono::seconds(1))
    return;
  lag_reported_at_ = now;
  std::int64_t lag = 0;
  for (auto partition : assigned_) {
    std::int64_t low = 0, high = 0;
    auto next = next_offsets_.find(partition);
    if (next == next_offsets_.end() ||
        consumer_->get_watermark_offsets(topic_, partition, &low, &high) != RdKafka::ERR_NO_ERROR || high < 0)
      continue;
    lag += std::max<std::int64_t>(0, high - next->second);
  }
  pipeline::metrics().get_gauge("vigil_consumer_lag_records",
                                "Records behind the input's high watermarks (as of the last fetch), over the partitions read")
    .set(static_cast<double>(lag));
}

std::size_t kafka_record_source::accept(const RdKafka::Message& msg, work_batch& out) {
  if (!reading(msg.partition())) {
    pipeline::metrics().get_counter("vigil_records_left_to_next_owner_total",
                                    "Records fetched from a partition being revoked, left for its next owner").add();
    return 0;
  }
  next_offsets_[msg.partition()] = msg.offset() + 1;
  std::string_view payload(static_cast<const char*>(msg.payload()), msg.len());
  auto parsed = pipeline::parse_transaction(payload);
  if (!parsed.ok()) {
    dead_letter(msg, parsed.message());
    return 0;
  }
  work_item item;
  auto ts = msg.timestamp();
  if (ts.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE)
    item.source_time_ms = ts.timestamp;
  // Judged against the record's own timestamp, never the clock: a replay
  // after a crash must decide exactly as the first read did.
  if (item.source_time_ms > 0)
    if (auto ahead = pipeline::future_time_error(parsed.value->tx.event_time_ms, item.source_time_ms,
                                                 max_event_time_skew_ms_)) {
      dead_letter(msg, "timestamp: " + *ahead);
      return 0;
    }
  item.tx = std::move(parsed.value->tx);
  item.position = {msg.partition(), msg.offset()};
  item.ingest_ns = steady_now_ns();
  // A global order for the batch assembler: offsets are per partition, so
  // interleave them deterministically by (offset, partition).
  item.sequence = (static_cast<std::uint64_t>(msg.offset()) << 10) |
                  static_cast<std::uint64_t>(msg.partition() & 0x3ff);
  out.push_back(std::move(item));
  return 1;
}

void kafka_record_source::pause() { set_paused(true); }

void kafka_record_source::resume() { set_paused(false); }

void kafka_record_source::set_paused(bool paused) {
  paused_ = paused;
  std::vector<RdKafka::TopicPartition*> parts;
  consumer_->assignment(parts);
  if (paused)
    consumer_->pause(parts);
  else
    consumer_->resume(parts);
  RdKafka::TopicPartition::destroy(parts);
}

void kafka_record_source::flush_dead_letters() const {
  // flush() costs a round of waiting even when idle: only when something is queued.
  if (dead_letters_->outq_len() > 0)
    dead_letters_->flush(10'000);
}

void kafka_record_source::commit(const partition_positions& positions) {
  flush_dead_letters();
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& [partition, offset] : positions)
    if (assigned_.count(partition))
      parts.push_back(RdKafka::TopicPartition::create(topic_, partition, offset));
  // The checkpoint is the source of truth for positions; the group's
  // committed offsets serve lag monitoring and a first start without one.
  if (!parts.empty())
    consumer_->commitAsync(parts);
  RdKafka::TopicPartition::destroy(parts);
}

partition_positions kafka_record_source::positions() const {
  flush_dead_letters();
  partition_positions out;
  for (auto partition : assigned_)
    if (auto it = next_offsets_.find(partition); it != next_offsets_.end())
      out[partition] = it->second;
  return out;
}

std::vector<std::int32_t> kafka_record_source::pending_assignment() const {
  return {pending_assignment_.begin(), pending_assignment_.end()};
}

void kafka_record_source::complete_assignment(const partition_positions& positions) {
  std::vector<RdKafka::TopicPartition*> parts;
  for (auto partition : pending_assignment_) {
    auto it = positions.find(partition);
    auto offset = it != positions.end() ? it->second : RdKafka::Topic::OFFSET_INVALID;
    parts.push_back(RdKafka::TopicPartition::create(topic_, partition, offset));
    if (it != positions.end())
      next_offsets_[partition] = it->second;
    assigned_.insert(partition);
  }
  pending_assignment_.clear();
  std::string error;
  try {
    start_reading(parts);
  } catch (const kafka_error& e) {
    error = e.what();
  }
  RdKafka::TopicPartition::destroy(parts);
  if (!error.empty())
    throw kafka_error(error);
}

bool kafka_record_source::cooperative() const {
  return consumer_->rebalance_protocol() == "COOPERATIVE";
}

void kafka_record_source::start_reading(std::vector<RdKafka::TopicPartition*>& parts) {
  std::string error;
  if (cooperative()) {
    std::unique_ptr<RdKafka::Error> e{consumer_->incremental_assign(parts)};
    error = e ? e->str() : "";
  } else {
    auto rc = consumer_->assign(parts);
    error = rc == RdKafka::ERR_NO_ERROR ? "" : RdKafka::err2str(rc);
  }
  if (!error.empty())
    throw kafka_error("assign: " + error);
  if (paused_ && !parts.empty())
    consumer_->pause(parts);
}

void kafka_record_source::start_reading_or_count(std::vector<RdKafka::TopicPartition*>& parts) {
  try {
    start_reading(parts);  // no exception may cross librdkafka's callback
  } catch (const kafka_error&) {
    pipeline::metrics().get_counter("vigil_kafka_errors_total", "Consumer errors").add();
  }
}

void kafka_record_source::release(const std::vector<std::int32_t>& partitions) {
  if (!cooperative()) {
    // Eager: a revocation always covers the whole assignment.
    assigned_.clear();
    next_offsets_.clear();
    consumer_->unassign();
    return;
  }
  std::vector<RdKafka::TopicPartition*> parts;
  for (auto partition : partitions) {
    assigned_.erase(partition);
    next_offsets_.erase(partition);
    parts.push_back(RdKafka::TopicPartition::create(topic_, partition));
  }
  std::unique_ptr<RdKafka::Error> e{consumer_->incremental_unassign(parts)};
  RdKafka::TopicPartition::destroy(parts);
  if (e)
    pipeline::metrics().get_counter("vigil_kafka_errors_total", "Consumer errors").add();
}

std::vector<std::int32_t> kafka_record_source::pending_revocation() const {
  return {pending_revocation_.begin(), pending_revocation_.end()};
}

void kafka_record_source::complete_revocation() {
  std::vector<std::int32_t> revoked(pending_revocation_.begin(), pending_revocation_.end());
  pending_revocation_.clear();
  revocation_lost_ = false;
  release(revoked);
}

} // namespace vigil::connectors
