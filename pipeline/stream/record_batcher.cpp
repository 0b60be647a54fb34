#include "pipeline/stream/record_batcher.h"

namespace vigil::pipeline {

work_batch& record_batcher::fill(std::int64_t now_ns) {
  if (items_.empty())
    started_ns_ = now_ns;
  return items_;
}

std::size_t record_batcher::room(std::size_t target) const {
  return target > items_.size() ? target - items_.size() : 0;
}

bool record_batcher::due(std::size_t target, std::int64_t deadline_ns, std::int64_t now_ns,
                         bool input_finished) const {
  if (items_.empty())
    return false;
  return items_.size() >= target || now_ns - started_ns_ >= deadline_ns || input_finished;
}

work_batch record_batcher::take() {
  work_batch out;
  out.swap(items_);
  return out;
}

} // namespace vigil::pipeline
