#pragma once
// Durable home of feedback labels: a local append-only file (embedded) or
// the Kafka topic fraud_labels. append() returns only once stored.

#include "pipeline/schema/label_event.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace vigil::connectors {

class label_store {
 public:
  virtual ~label_store() = default;
  /// Throws std::runtime_error when the labels could not be stored.
  virtual void append(const std::vector<pipeline::label_event>& labels) = 0;
};

class file_label_store final : public label_store {
 public:
  explicit file_label_store(const std::string& path);
  void append(const std::vector<pipeline::label_event>& labels) override;

 private:
  std::string path_;
  int fd_ = -1;
};

/// Produces to `topic` and waits for the broker's acknowledgement.
std::unique_ptr<label_store> make_kafka_label_store(const std::string& brokers,
                                                   const std::string& topic);

} // namespace vigil::connectors
