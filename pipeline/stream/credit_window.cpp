#include "pipeline/stream/credit_window.h"

namespace vigil::pipeline {

std::uint64_t credit_window::issue() {
  auto id = next_id_++;
  in_flight_.insert(id);
  return id;
}

void credit_window::release(std::uint64_t batch_id) {
  in_flight_.erase(batch_id);
}

credit_window::input_change credit_window::tick(std::int64_t now_ns) {
  if (available()) {
    missing_since_ns_ = -1;
    if (!paused_)
      return input_change::none;
    paused_ = false;
    return input_change::resume;
  }
  if (missing_since_ns_ < 0)
    missing_since_ns_ = now_ns;
  if (paused_ || now_ns - missing_since_ns_ < grace_ns_)
    return input_change::none;
  paused_ = true;
  return input_change::pause;
}

} // namespace vigil::pipeline
