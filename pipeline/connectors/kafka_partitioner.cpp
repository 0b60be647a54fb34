#include "pipeline/connectors/kafka_partitioner.h"

#include <librdkafka/rdkafka.h>

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

} // namespace vigil::connectors
