#pragma once
// Consumes `transactions` in a consumer group. Valid records become work
// items; invalid ones go to the dead-letter topic with the original bytes
// and the reason (headers vigil-error, vigil-origin), never silently dropped.
// Rebalances are deferred to the pipeline (record_source's ownership
// calls): librdkafka lets the application assign or unassign after the
// callback returns, so a revoked partition is checkpointed before it goes
// and an assigned one starts only once its state is restored.

#include "pipeline/connectors/kafka_config.h"
#include "pipeline/connectors/record_source.h"

#include <chrono>
#include <deque>
#include <set>

namespace vigil::connectors {

class kafka_record_source final : public record_source {
 public:
  /// A record whose event time is more than `max_event_time_skew_ms` after
  /// its own broker timestamp is dead-lettered, not applied.
  kafka_record_source(const std::string& brokers, const std::string& group,
                      const std::string& topic, const std::string& dead_letter_topic,
                      std::int64_t max_event_time_skew_ms = 300'000);
  ~kafka_record_source() override;

  std::size_t poll(work_batch& out, std::size_t max) override;
  void pause() override;
  void resume() override;
  /// Flushes the dead-letter producer first, so a committed offset never
  /// covers a dead letter that is not yet stored.
  void commit(const partition_positions& positions) override;
  partition_positions positions() const override;
  std::vector<std::int32_t> pending_assignment() const override;
  void complete_assignment(const partition_positions& positions) override;
  std::vector<std::int32_t> pending_revocation() const override;
  bool revocation_lost() const override { return revocation_lost_; }
  void complete_revocation() override;
  std::vector<std::int32_t> owned_partition_list() const override { return {assigned_.begin(), assigned_.end()}; }
  /// From the broker's metadata, asked again after 30 s (a topic may grow).
  std::int32_t topic_partitions() override;

 private:
  class rebalance_handler;
  void dead_letter(const RdKafka::Message& msg, const std::string& reason);
  /// Parses one record into `out` (1) or dead-letters it (0); a record of a
  /// partition this source is giving up is dropped (0): its next owner
  /// reads it from the checkpoint.
  std::size_t accept(const RdKafka::Message& msg, work_batch& out);
  bool reading(std::int32_t partition) const;
  /// True with a cooperative assignor: changes are incremental.
  bool cooperative() const;
  /// Adds these partitions to the assignment (assign or incremental_assign).
  /// Throws kafka_error when the consumer refuses.
  void start_reading(std::vector<RdKafka::TopicPartition*>& parts);
  /// The same from inside the rebalance callback: a refusal is counted.
  void start_reading_or_count(std::vector<RdKafka::TopicPartition*>& parts);
  /// Hands these partitions back to the group (the whole assignment under
  /// the eager protocol).
  void release(const std::vector<std::int32_t>& partitions);
  std::string position_key(std::int32_t partition) const;
  /// Pauses or resumes every assigned partition.
  void set_paused(bool paused);
  /// Waits until every dead letter is acknowledged (bounded: 10 s).
  void flush_dead_letters() const;
  /// Sets vigil_consumer_lag_records, at most once a second: records
  /// behind the high watermarks of the last fetch responses (no broker call).
  void report_lag();

  std::string topic_, dead_letter_topic_;
  std::int32_t topic_partitions_ = 0;
  std::chrono::steady_clock::time_point topic_partitions_at_{};
  std::int64_t max_event_time_skew_ms_;
  std::unique_ptr<rebalance_handler> rebalance_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::Producer> dead_letters_;
  std::map<std::int32_t, std::int64_t> next_offsets_;  ///< of records accepted
  std::set<std::int32_t> assigned_;
  std::set<std::int32_t> pending_assignment_, pending_revocation_;
  bool revocation_lost_ = false;
  bool closing_ = false;  ///< in close(): rebalances apply at once
  /// An assignment arrived (even an empty one): librdkafka 2.0.2 aborts when
  /// a cooperative-sticky consumer is destroyed before its first one
  /// (librdkafka issue 4312, fixed in 2.3.0).
  bool ever_assigned_ = false;
  std::deque<std::unique_ptr<RdKafka::Message>> held_;
  bool paused_ = false;
  std::chrono::steady_clock::time_point lag_reported_at_{};
};

} // namespace vigil::connectors
