#include "http/predict_coalescer.h"


namespace vigil::http {

predict_coalescer::predict_coalescer(std::size_t max_in_flight, std::size_t max_pass_items,
                                     std::size_t max_queued_items)
  : max_in_flight_(max_in_flight), max_pass_items_(max_pass_items), max_queued_items_(max_queued_items) {}

bool predict_coalescer::add(predict_job_ptr job) {
  auto n = job->transactions.size();
  if (queued_items_ + n > max_queued_items_)
    return false;
  queued_items_ += n;
  queues_[kind_of(*job)].emplace_back(next_arrival_++, std::move(job));
  return true;
}

std::optional<predict_pass> predict_coalescer::next() {
  if (in_flight_ >= max_in_flight_)
    return std::nullopt;
  int oldest = -1;
  for (int k = 0; k < static_cast<int>(queues_.size()); ++k)
    if (!queues_[k].empty() && (oldest < 0 || queues_[k].front().first < queues_[oldest].front().first))
      oldest = k;
  if (oldest < 0)
    return std::nullopt;
  auto& queue = queues_[oldest];
  predict_pass pass;
  pass.update = queue.front().second->update;
  pass.expensive = queue.front().second->expensive;
  while (!queue.empty()) {
    auto n = queue.front().second->transactions.size();
    if (!pass.jobs.empty() && pass.items + n > max_pass_items_)
      break;
    pass.offsets.push_back(pass.items);
    pass.items += n;
    pass.jobs.push_back(std::move(queue.front().second));
    queue.pop_front();
  }
  queued_items_ -= pass.items;
  ++in_flight_;
  return pass;
}

void predict_coalescer::finished() {
  if (in_flight_ > 0)
    --in_flight_;
}

} // namespace vigil::http
