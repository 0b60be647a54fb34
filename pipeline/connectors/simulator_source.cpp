#include "pipeline/connectors/simulator_source.h"

namespace vigil::connectors {

simulator_source::simulator_source(const pipeline::simulator_options& options, double rate,
                                   std::int64_t count, bool with_labels)
  : simulator_(options), rate_(rate), count_(count), with_labels_(with_labels),
    started_(std::chrono::steady_clock::now()) {}

std::size_t simulator_source::poll(work_batch& out, std::size_t max) {
  std::int64_t allowed = max;
  if (rate_ > 0) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    auto due = paced_from_ + static_cast<std::int64_t>(elapsed * rate_);
    allowed = std::min<std::int64_t>(allowed, due - produced_);
  }
  if (count_ > 0)
    allowed = std::min<std::int64_t>(allowed, count_ - produced_);
  std::size_t added = 0;
  auto now = steady_now_ns();
  for (std::int64_t i = 0; i < allowed; ++i) {
    work_item item;
    auto record = simulator_.next();
    item.tx = std::move(record.tx);
    // The simulated chargebacks: each label travels with its transaction
    // and counts from its label time, as the bootstrap model was trained.
    if (with_labels_ && record.label)
      item.label = pipeline::travelling_label{record.label->label_time_ms, record.label->is_fraud};
    item.sequence = static_cast<std::uint64_t>(produced_);
    item.position = {0, produced_};
    item.ingest_ns = now;
    out.push_back(std::move(item));
    ++produced_;
    ++added;
  }
  return added;
}

partition_positions simulator_source::positions() const {
  return {{0, produced_}};
}

void simulator_source::seek(const partition_positions& positions) {
  auto it = positions.find(0);
  if (it == positions.end())
    return;
  while (produced_ < it->second) {
    simulator_.next();
    ++produced_;
  }
  paced_from_ = produced_;
  started_ = std::chrono::steady_clock::now();
}

} // namespace vigil::connectors
