#pragma once
// How a source follows partition ownership when its consumer group moves
// partitions: a revoked partition is checkpointed before it is let go (or
// let go at once when its assignment was lost, or nothing is checkpointed);
// an assigned one is read only after its checkpointed state is installed,
// retried a second later when the store cannot be read. Revocations come
// first: nothing is assigned while one is pending. Plain C++.

#include <cstdint>
#include <vector>

namespace vigil::pipeline {

class partition_handover {
 public:
  enum class action_kind {
    none,
    release_now,       ///< let the revoked partitions go without a checkpoint
    checkpoint_first,  ///< request a checkpoint; they go when it ends
    restore,           ///< install the assigned partitions' state, then read them
  };
  struct action {
    action_kind kind = action_kind::none;
    std::vector<std::int32_t> partitions;
  };

  explicit partition_handover(bool checkpoints) : checkpoints_(checkpoints) {}
  /// The step for this tick, given what the consumer reports as pending.
  action next(const std::vector<std::int32_t>& revoking, bool lost,
              const std::vector<std::int32_t>& assigned, std::int64_t now_ns);
  /// A checkpoint numbered `number` copied the state while a revocation
  /// waited: it covers the revocation.
  void checkpoint_started(std::uint64_t number);
  /// True when the checkpoint `number` that just ended covered the
  /// revocation: the partitions go now (stored or not: their next owner
  /// resumes from their previous checkpoint, whose state and position agree).
  bool release_after(std::uint64_t number);
  /// The revocation is complete.
  void released() { revoking_ = false; covering_ = 0; }
  /// Restoring failed at `now_ns`: try again a second later.
  void restore_failed(std::int64_t now_ns) { retry_at_ns_ = now_ns + 1'000'000'000LL; }
  bool revoking() const { return revoking_; }

 private:
  bool checkpoints_;
  bool revoking_ = false;
  std::uint64_t covering_ = 0;  ///< the checkpoint that covers the revocation, 0 = none yet
  std::int64_t retry_at_ns_ = 0;
};

} // namespace vigil::pipeline
