#pragma once
// Which input partition a user's records land in: the producer's own
// partitioner, called through librdkafka, so /predict finds the node that
// reads a user's partition (and so holds the user's history).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::connectors {

/// The partition of `key` (not empty) among `partitions` (> 0) under
/// `partitioner`: "consistent_random" (librdkafka's default: CRC32 of the
/// key) or "murmur2_random" (the Java client's default). Throws
/// std::invalid_argument otherwise.
std::int32_t partition_of(const std::string& key, std::int32_t partitions, const std::string& partitioner);

/// The first user whose partition (among `partitions`, > 0) is not in
/// `read`, with that partition; nullopt when every one is read.
std::optional<std::pair<std::string, std::int32_t>> first_unread(const std::vector<std::string>& user_ids,
                                                                 const std::vector<std::int32_t>& read,
                                                                 std::int32_t partitions,
                                                                 const std::string& partitioner);

} // namespace vigil::connectors
