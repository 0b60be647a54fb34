#pragma once
// When a source takes an aligned checkpoint, as a state machine: a request
// (or the interval) raises the barrier; the source then flushes what it
// holds and issues nothing new; once nothing is in flight the state copy
// starts; once the copy is taken the source reads again while the copy is
// saved; the save's outcome answers every request made before its copy
// started. Each checkpoint has a number, so a request knows which one
// answers it. Plain C++.

#include <cstdint>

namespace vigil::pipeline {

class checkpoint_barrier {
 public:
  /// What the source does on a tick.
  enum class step {
    read,   ///< no barrier: read and dispatch as usual
    flush,  ///< barrier raised: dispatch what is held, read nothing new
    copy,   ///< drained: start the state copy now (then call copy_started)
    hold,   ///< a copy is being taken: do nothing
  };

  /// Wants a checkpoint whose copy starts after now; returns the number of
  /// the checkpoint that will answer (the next one to start).
  std::uint64_t request();
  /// Raises the barrier when `interval_ns` has passed since the last
  /// checkpoint ended (or since `start` for the first), unless one is
  /// already wanted or running.
  void on_interval(std::int64_t now_ns, std::int64_t interval_ns);
  /// This tick's step: `holding` = records not yet dispatched;
  /// `in_flight` = batches dispatched and not yet delivered.
  step next(bool holding, std::size_t in_flight) const;

  struct copy_plan {
    std::uint64_t number;  ///< this checkpoint's number
    bool full;             ///< copy everything (the last save failed)
  };
  /// The copy starts (after `copy`): lowers the barrier's request.
  copy_plan copy_started();
  /// The copy is taken: the source may read again while it is saved.
  void copy_taken() { copying_ = false; }
  /// The save ended at `now_ns`, stored or not (a failed one makes the next
  /// copy full: its changes were not stored). Returns its number: every
  /// request numbered up to it is answered by `stored`.
  std::uint64_t finished(bool stored, std::int64_t now_ns);

  void start(std::int64_t now_ns) { last_end_ns_ = now_ns; }
  bool requested() const { return requested_; }
  bool running() const { return running_; }
  bool copying() const { return copying_; }

 private:
  bool requested_ = false, copying_ = false, running_ = false, full_next_ = false;
  std::uint64_t started_ = 0;  ///< checkpoints started so far (the last one's number)
  std::int64_t last_end_ns_ = 0;
};

} // namespace vigil::pipeline
