#pragma once
// Reads the newest records of a topic once, outside any consumer group
// (a restarted node reading back what it published before).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vigil::connectors {

/// Partition -> (first offset, end offset) of `topic` now; empty when the
/// topic does not exist. Throws kafka_error when the cluster does not
/// answer within `timeout`.
std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>>
topic_watermarks(const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout);

/// About `max_records` of the newest record values of `topic` (an equal
/// share from each partition), each partition in offset order, as they
/// stood when the call began. Empty when the topic does not exist. Throws
/// kafka_error when the cluster does not answer, when the records do not
/// arrive in `timeout`, or when `cancel` is set.
std::vector<std::string> read_topic_tail(const std::string& brokers, const std::string& topic,
                                         std::size_t max_records, std::chrono::milliseconds timeout,
                                         const std::atomic<bool>* cancel = nullptr);

} // namespace vigil::connectors
