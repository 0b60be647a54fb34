#include "pipeline/connectors/file_replay_source.h"

#include "pipeline/features/labelled_replay.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace vigil::connectors {

file_replay_source::file_replay_source(const std::string& path, double speedup, double max_invalid_share,
                                       const pipeline::transaction_file_options& options)
  : speedup_(speedup), started_(std::chrono::steady_clock::now()) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot open replay file " + path);
  auto file = pipeline::read_transactions(in, options);
  if (file.rejected_share() > max_invalid_share) {
    char text[160];
    std::snprintf(text, sizeof text, "replay file %s: %zu of %zu lines are invalid, more than %g; first: ",
                  path.c_str(), file.rejected.size(), file.lines(), max_invalid_share);
    const auto& first = file.rejected.front();
    throw std::runtime_error(text + std::string("line ") + std::to_string(first.line_number) + ": " + first.reason);
  }
  rejected_ = file.rejected.size();
  records_ = std::move(file.records);
  pipeline::sort_by_event_time(records_);
  if (!records_.empty())
    paced_from_ms_ = records_.front().tx.event_time_ms;
}

std::size_t file_replay_source::poll(work_batch& out, std::size_t max) {
  const auto size = static_cast<std::int64_t>(records_.size());
  std::int64_t end = std::min<std::int64_t>(size, next_ + static_cast<std::int64_t>(max));
  if (speedup_ > 0) {
    double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    auto due_ms = paced_from_ms_ + static_cast<std::int64_t>(elapsed_s * speedup_ * 1000.0);
    std::int64_t due_end = next_;
    while (due_end < end && records_[static_cast<std::size_t>(due_end)].tx.event_time_ms <= due_ms)
      ++due_end;
    end = due_end;
  }
  const auto now = steady_now_ns();
  const auto first = next_;
  for (; next_ < end; ++next_) {
    const auto& record = records_[static_cast<std::size_t>(next_)];
    work_item item;
    item.tx = record.tx;
    item.sequence = static_cast<std::uint64_t>(next_);
    item.position = {0, next_};
    item.ingest_ns = now;
    if (record.label)
      item.label = pipeline::travelling_label{record.label->label_time_ms, record.label->is_fraud};
    out.push_back(std::move(item));
  }
  return static_cast<std::size_t>(next_ - first);
}

void file_replay_source::seek(const partition_positions& positions) {
  auto it = positions.find(0);
  if (it == positions.end())
    return;
  next_ = std::min<std::int64_t>(it->second, static_cast<std::int64_t>(records_.size()));
  if (next_ < static_cast<std::int64_t>(records_.size()))
    paced_from_ms_ = records_[static_cast<std::size_t>(next_)].tx.event_time_ms;
  started_ = std::chrono::steady_clock::now();
}

} // namespace vigil::connectors
