#pragma once
// A decision publisher for tests: records (transaction_id, model_version) of
// every decision, optionally slowly (a congested downstream).

#include "pipeline/connectors/decision_publisher.h"

#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace vigil::testing {

class recording_publisher final : public connectors::decision_publisher {
 public:
  explicit recording_publisher(std::chrono::milliseconds delay) : delay_(delay) {}
  void publish(std::uint64_t, const models::decision_batch& decisions) override {
    std::this_thread::sleep_for(delay_);
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& d : decisions)
      seen_.push_back({d.transaction_id, d.model_version});
  }
  void seal(std::uint64_t batch_id) override { delivered_.push_back(batch_id); }
  std::vector<std::uint64_t> take_delivered() override { return std::exchange(delivered_, {}); }
  /// Thread-safe copy of what was published so far.
  std::vector<std::pair<std::string, int>> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, int>> seen_;
  std::vector<std::uint64_t> delivered_;  ///< touched by the sink's thread only
};

} // namespace vigil::testing
