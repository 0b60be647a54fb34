#pragma once
// Credit between a source and its sink: at most `limit` batches in flight.
// Without credit for a grace period the input is paused (pausing makes
// librdkafka drop its prefetched records, and 2.0.2 fetches a resumed
// partition only up to a second later, so stalls shorter than the grace
// are ridden out); once credit is back it is resumed.
// Plain C++.

#include <cstdint>
#include <set>

namespace vigil::pipeline {

class credit_window {
 public:
  /// What to do with the input after a tick.
  enum class input_change { none, pause, resume };

  credit_window(std::size_t limit, std::int64_t grace_ns) : limit_(limit), grace_ns_(grace_ns) {}
  /// A live config change; batches already in flight stay.
  void set_limit(std::size_t limit) { limit_ = limit; }
  /// A live config change of the grace period.
  void set_grace(std::int64_t grace_ns) { grace_ns_ = grace_ns; }
  bool available() const { return in_flight_.size() < limit_; }
  /// Takes one credit for a new batch; returns the batch's id (0, 1, ...).
  std::uint64_t issue();
  /// The batch was delivered: its credit comes back. Unknown ids are ignored.
  void release(std::uint64_t batch_id);
  std::size_t in_flight() const { return in_flight_.size(); }
  /// The pause rule, applied at `now_ns` (call every tick): pause once
  /// credit has been missing for the grace period, resume once it is back.
  input_change tick(std::int64_t now_ns);
  bool paused() const { return paused_; }

 private:
  std::size_t limit_;
  std::int64_t grace_ns_;
  std::uint64_t next_id_ = 0;
  std::set<std::uint64_t> in_flight_;
  std::int64_t missing_since_ns_ = -1;  ///< -1 while credit is available
  bool paused_ = false;
};

} // namespace vigil::pipeline
