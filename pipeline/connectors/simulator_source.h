#pragma once
// The embedded feed: simulated transactions, paced to a target rate.

#include "pipeline/connectors/record_source.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <chrono>

namespace vigil::connectors {

class simulator_source final : public record_source {
 public:
  /// `rate` transactions per second of wall time (0 = unthrottled);
  /// `count` 0 = unbounded; `with_labels`: each record carries its simulated
  /// label, which user and merchant state take in at its label time.
  simulator_source(const pipeline::simulator_options& options, double rate, std::int64_t count,
                   bool with_labels = true);

  std::size_t poll(work_batch& out, std::size_t max) override;
  partition_positions positions() const override;
  /// Regenerates and discards records up to the position: the simulator is
  /// deterministic, so this resumes the exact same stream.
  void seek(const partition_positions& positions) override;
  bool exhausted() const override { return count_ > 0 && produced_ >= count_; }

 private:
  pipeline::transaction_simulator simulator_;
  double rate_;
  std::int64_t count_;
  bool with_labels_;
  std::int64_t produced_ = 0;
  std::int64_t paced_from_ = 0;  ///< produced_ when pacing (re)started
  std::chrono::steady_clock::time_point started_;
};

} // namespace vigil::connectors
