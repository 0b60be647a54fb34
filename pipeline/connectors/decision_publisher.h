#pragma once
// Where decisions go: a JSON-lines file (embedded) or Kafka topics.

#include "models/serving/decision_json.h"
#include "models/serving/decision_record.h"

#include <fstream>
#include <string>
#include <vector>

namespace vigil::connectors {

using models::decision_batch;
using models::decision_record;
using models::render_decision;

class decision_publisher {
 public:
  virtual ~decision_publisher() = default;
  /// Hands over decisions of one part of batch `batch_id`.
  virtual void publish(std::uint64_t batch_id, const decision_batch& decisions) = 0;
  /// No more parts of `batch_id` will come.
  virtual void seal(std::uint64_t batch_id) = 0;
  /// Batches whose every decision is durably delivered, since the last call.
  virtual std::vector<std::uint64_t> take_delivered() = 0;
};

/// Appends one JSON object per decision (with the scored features) to a file.
/// Delivery = written and flushed.
class file_decision_publisher final : public decision_publisher {
 public:
  explicit file_decision_publisher(const std::string& path);
  void publish(std::uint64_t batch_id, const decision_batch& decisions) override;
  void seal(std::uint64_t batch_id) override;
  std::vector<std::uint64_t> take_delivered() override;

 private:
  std::ofstream out_;
  std::vector<std::uint64_t> delivered_;
};

} // namespace vigil::connectors
