#include "pipeline/connectors/kafka_topic_tail.h"

#include "pipeline/connectors/kafka_config.h"

#include <algorithm>
#include <map>

namespace vigil::connectors {
namespace {

// Partition -> (first offset, end offset) of `topic`, asked through `client`.
std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>>
watermarks(RdKafka::Handle& client, const std::string& topic, int timeout_ms) {
  RdKafka::Metadata* raw = nullptr;
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle{RdKafka::Topic::create(&client, topic, nullptr, error)};
  if (client.metadata(false, handle.get(), &raw, timeout_ms) != RdKafka::ERR_NO_ERROR)
    throw kafka_error("no metadata for topic " + topic);
  std::unique_ptr<RdKafka::Metadata> metadata{raw};
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> out;
  for (const auto* described : *metadata->topics()) {
    if (described->err() != RdKafka::ERR_NO_ERROR)
      continue;  // unknown topic: nothing was published yet
    for (const auto* partition : *described->partitions()) {
      std::int64_t low = 0, high = 0;
      auto rc = client.query_watermark_offsets(topic, partition->id(), &low, &high, timeout_ms);
      if (rc != RdKafka::ERR_NO_ERROR)
        throw kafka_error("offsets of " + topic + ": " + RdKafka::err2str(rc));
      out[partition->id()] = {low, high};
    }
  }
  return out;
}

} // namespace

std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>>
topic_watermarks(const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout) {
  auto conf = make_kafka_conf({{"bootstrap.servers", brokers}, {"allow.auto.create.topics", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::Producer> client{RdKafka::Producer::create(conf.get(), error)};
  if (!client)
    throw kafka_error("cannot create Kafka client: " + error);
  return watermarks(*client, topic, static_cast<int>(timeout.count()));
}

std::vector<std::string> read_topic_tail(const std::string& brokers, const std::string& topic,
                                         std::size_t max_records, std::chrono::milliseconds timeout,
                                         const std::atomic<bool>* cancel) {
  auto conf = make_kafka_conf({{"bootstrap.servers", brokers},
                               {"group.id", "vigil-tail-reader"},  // never joined: assign() only
                               {"enable.auto.commit", "false"},
                               {"enable.partition.eof", "true"},
                               {"allow.auto.create.topics", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer{RdKafka::KafkaConsumer::create(conf.get(), error)};
  if (!consumer)
    throw kafka_error("cannot create Kafka consumer: " + error);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Partition -> [first offset to read, end offset) as of now: an equal
  // share of `max_records` from each partition.
  auto ranges = watermarks(*consumer, topic, static_cast<int>(timeout.count()));
  const auto per_partition =
    ranges.empty() ? 0 : static_cast<std::int64_t>((max_records + ranges.size() - 1) / ranges.size());
  for (auto it = ranges.begin(); it != ranges.end();) {
    auto& [low, high] = it->second;
    low = std::max(low, high - per_partition);
    it = low < high ? std::next(it) : ranges.erase(it);
  }
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const auto& [partition, range] : ranges)
    assignment.push_back(RdKafka::TopicPartition::create(topic, partition, range.first));
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);

  std::map<std::int32_t, std::vector<std::string>> by_partition;
  // A partition is done at its end offset as of the start, or at its end
  // (offsets can have gaps, e.g. after compaction).
  auto finish = [&](std::int32_t partition) { ranges.erase(partition); };
  while (!ranges.empty()) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw kafka_error("reading the tail of " + topic + " took longer than " +
                        std::to_string(timeout.count()) + " ms");
    if (cancel && *cancel)
      throw kafka_error("reading the tail of " + topic + " was cancelled");
    std::unique_ptr<RdKafka::Message> m{consumer->consume(100)};
    if (m->err() == RdKafka::ERR__PARTITION_EOF)
      finish(m->partition());
    if (m->err() != RdKafka::ERR_NO_ERROR)
      continue;
    auto range = ranges.find(m->partition());
    if (range == ranges.end() || m->offset() >= range->second.second)
      continue;
    by_partition[m->partition()].emplace_back(static_cast<const char*>(m->payload()), m->len());
    if (m->offset() + 1 >= range->second.second)
      finish(m->partition());
  }
  consumer->close();
  std::vector<std::string> out;
  for (auto& [partition, values] : by_partition)
    for (auto& value : values)
      out.push_back(std::move(value));
  return out;
}

} // namespace vigil::connectors
