#pragma once
// The embedded feed from a labelled JSON-lines file (`vigil run --replay`):
// its transactions in event-time order, paced by their own timestamps at a
// speed-up, each with its label travelling along so the merchant takes it
// in at its label time, as `vigil score` and `vigil train` do.

#include "pipeline/connectors/record_source.h"
#include "pipeline/schema/transaction_file.h"

#include <chrono>
#include <string>

namespace vigil::connectors {

class file_replay_source final : public record_source {
 public:
  /// Reads and sorts the whole file (stable by event time, as `vigil
  /// score` does). `speedup` event-time seconds per wall second (0 = as fast
  /// as the pipeline takes them). Throws std::runtime_error when the file
  /// cannot be read or more than `max_invalid_share` of its lines are
  /// invalid (the first reasons in the message).
  file_replay_source(const std::string& path, double speedup, double max_invalid_share,
                     const pipeline::transaction_file_options& options = {});

  std::size_t poll(work_batch& out, std::size_t max) override;
  partition_positions positions() const override { return {{0, next_}}; }
  /// Resumes at a checkpointed position (records before it are in state).
  void seek(const partition_positions& positions) override;
  bool exhausted() const override { return next_ >= static_cast<std::int64_t>(records_.size()); }
  std::size_t rejected_lines() const { return rejected_; }

 private:
  std::vector<pipeline::labelled_transaction> records_;
  std::size_t rejected_ = 0;
  double speedup_;
  std::int64_t next_ = 0;
  std::int64_t paced_from_ms_ = 0;  ///< event time of the record pacing (re)started at
  std::chrono::steady_clock::time_point started_;
};

} // namespace vigil::connectors
