#pragma once
// What a restarted node reads back so that feedback keeps joining: the
// newest decisions it published (each with the exact feature vector that
// was scored) and the labels stored for them. The durable outputs are the
// log; nothing else is written for it.

#include "models/serving/decision_json.h"
#include "models/serving/decision_record.h"
#include "pipeline/schema/label_event.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::connectors {

using models::decision_from_json;
using models::decision_record;

struct scored_history {
  std::vector<decision_record> decisions;    ///< oldest first (per partition on Kafka)
  std::vector<pipeline::label_event> labels; ///< in stored order
  std::size_t malformed = 0;                 ///< records that did not parse (skipped)
};

/// Thrown when a read is cancelled (the node stops first).
struct history_cancelled : std::runtime_error {
  history_cancelled() : std::runtime_error("cancelled: the node is stopping") {}
};

/// Embedded node: the last `max_decisions` lines of the decisions file and
/// the last `max_labels` of the labels file. A missing file reads as empty.
scored_history read_file_history(const std::string& decisions_path, const std::string& labels_path,
                                 std::size_t max_decisions, std::size_t max_labels,
                                 const std::atomic<bool>& cancel);

/// Kafka node: the newest records of the predictions and labels topics
/// (every node's, so labels join whichever node scored them).
scored_history read_kafka_history(const std::string& brokers, const std::string& predictions_topic,
                                  const std::string& labels_topic, std::size_t max_decisions,
                                  std::size_t max_labels, std::chrono::milliseconds timeout,
                                  const std::atomic<bool>& cancel);

/// The last `n` lines of a file (without their newlines), oldest first.
std::vector<std::string> last_lines(const std::string& path, std::size_t n);

} // namespace vigil::connectors
