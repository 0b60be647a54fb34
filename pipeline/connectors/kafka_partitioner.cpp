#include "pipeline/connectors/kafka_partitioner.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <stdexcept>

namespace vigil::connectors {

std::int32_t partition_of(const std::string& key, std::int32_t partitions, const std::string& partitioner) {
  if (partitions <= 0 || key.empty())
    throw std::invalid_argument("partition_of: no partitions, or an empty key");
  // Neither function reads the topic handle or the opaques for a non-empty
  // key (an empty one would take a random, available partition).
  if (partitioner == "murmur2_random")
    return rd_kafka_msg_partitioner_murmur2_random(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
  if (partitioner == "consistent_random")
    return rd_kafka_msg_partitioner_consistent_random(nullptr, key.data(), key.size(), partitions, nullptr,
                                                      nullptr);
  throw std::invalid_argument("unknown partitioner " + partitioner);
}

std::optional<std::pair<std::string, std::int32_t>> first_unread(const std::vector<std::string>& user_ids,
                                                                 const std::vector<std::int32_t>& read,
                                                                 std::int32_t partitions,
                                                                 const std::string& partitioner) {
  for (const auto& user : user_ids) {
    auto partition = partition_of(user, partitions, partitioner);
    if (std::find(read.begin(), read.end(), partition) == read.end())
      return std::make_pair(user, partition);
  }
  return std::nullopt;
}

} // namespace vigil::connectors
