#include "pipeline/stream/record_batcher.h"

#include <algorithm>

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

std::size_t record_batcher::drop_partitions(const std::vector<std::int32_t>& partitions) {
  auto before = items_.size();
  items_.erase(std::remove_if(items_.begin(), items_.end(),
                              [&](const work_item& item) {
                                return std::find(partitions.begin(), partitions.end(), item.position.partition) !=
                                       partitions.end();
                              }),
               items_.end());
  return before - items_.size();
}

work_batch record_batcher::take() {
  work_batch out;
  out.swap(items_);
  return out;
}

} // namespace vigil::pipeline
