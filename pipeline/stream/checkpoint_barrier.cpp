#include "pipeline/stream/checkpoint_barrier.h"

namespace vigil::pipeline {

std::uint64_t checkpoint_barrier::request() {
  requested_ = true;
  return started_ + 1;
}

void checkpoint_barrier::on_interval(std::int64_t now_ns, std::int64_t interval_ns) {
  if (!requested_ && !running_ && now_ns - last_end_ns_ > interval_ns)
    requested_ = true;
}

checkpoint_barrier::step checkpoint_barrier::next(bool holding, std::size_t in_flight) const {
  if (copying_)
    return step::hold;
  if (!requested_)
    return step::read;
  // The next copy waits for the running save: saves land in order.
  if (!holding && in_flight == 0 && !running_)
    return step::copy;
  return step::flush;
}

checkpoint_barrier::copy_plan checkpoint_barrier::copy_started() {
  requested_ = false;
  copying_ = true;
  running_ = true;
  bool full = full_next_;
  full_next_ = false;
  return {++started_, full};
}

std::uint64_t checkpoint_barrier::finished(bool stored, std::int64_t now_ns) {
  if (!stored)
    full_next_ = true;
  copying_ = false;
  running_ = false;
  last_end_ns_ = now_ns;
  return started_;
}

} // namespace vigil::pipeline
