#pragma once
// Which input partition a user's records land in: the producer's own
// partitioner, called through librdkafka, so /predict finds the node that
// reads a user's partition (and so holds the user's history).

#include <cstdint>
#include <string>

namespace vigil::connectors {

/// The partition of `key` (not empty) among `partitions` (> 0) under
/// `partitioner`: "consistent_random" (librdkafka's default: CRC32 of the
/// key) or "murmur2_random" (the Java client's default). Throws
/// std::invalid_argument otherwise.
std::int32_t partition_of(const std::string& key, std::int32_t partitions, const std::string& partitioner);

} // namespace vigil::connectors
