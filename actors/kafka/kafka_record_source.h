#pragma once
// Consumes `transactions` in a consumer group. Valid records become work
// items; invalid ones go to the dead-letter topic with the original bytes
// and the reason (headers vigil-error, vigil-origin), never silently dropped.

#include "actors/kafka/kafka_config.h"
#include "actors/pipeline/record_source.h"

#include <deque>
#include <set>

namespace vigil::actors {

class kafka_record_source final : public record_source {
 public:
  kafka_record_source(const std::string& brokers, const std::string& group,
                      const std::string& topic, const std::string& dead_letter_topic);
  ~kafka_record_source() override;

  std::size_t poll(work_batch& out, std::size_t max) override;
  void pause() override;
  void resume() override;
  /// Flushes the dead-letter producer first, so a committed offset never
  /// covers a dead letter that is not yet stored.
  void commit(const std::map<std::string, std::int64_t>& positions) override;
  std::map<std::string, std::int64_t> positions() const override;
  /// Positions apply when partitions are assigned (they seek there).
  void seek(const std::map<std::string, std::int64_t>& positions) override;

 private:
  class rebalance_handler;
  void dead_letter(const RdKafka::Message& msg, const std::string& reason);
  /// Parses one record into `out` (1) or dead-letters it (0).
  std::size_t accept(const RdKafka::Message& msg, work_batch& out);
  std::string position_key(std::int32_t partition) const;
  /// Pauses or resumes every assigned partition.
  void set_paused(bool paused);
  /// Waits until every dead letter is acknowledged (bounded: 10 s).
  void flush_dead_letters() const;

  std::string topic_, dead_letter_topic_;
  std::unique_ptr<rebalance_handler> rebalance_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::Producer> dead_letters_;
  std::map<std::string, std::int64_t> restored_;
  std::map<std::int32_t, std::int64_t> next_offsets_;
  std::set<std::int32_t> assigned_;
  std::deque<std::unique_ptr<RdKafka::Message>> held_;
  bool paused_ = false;
};

} // namespace vigil::actors
