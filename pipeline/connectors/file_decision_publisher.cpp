#include "models/serving/decision_json.h"
#include "pipeline/connectors/decision_publisher.h"
#include "pipeline/metrics/metrics_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace vigil::connectors {
namespace {

pipeline::counter& write_failures() {
  return pipeline::metrics().get_counter("vigil_output_write_failures_total",
                                         "Failed writes of the decisions file (a full disk); retried");
}

pipeline::gauge& write_failing() {
  return pipeline::metrics().get_gauge("vigil_output_write_failing",
                                       "1 while decisions wait for a failed write to succeed");
}

} // namespace

file_decision_publisher::file_decision_publisher(const std::string& path)
  : path_(path), fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
  if (fd_ < 0)
    throw std::runtime_error("cannot open decisions file " + path + ": " + std::strerror(errno));
  write_failing().set(0);
}

file_decision_publisher::~file_decision_publisher() {
  if (fd_ >= 0)
    ::close(fd_);
}

void file_decision_publisher::publish(std::uint64_t, const decision_batch& decisions) {
  for (const auto& d : decisions) {
    open_text_ += render_decision(d, true);
    open_text_ += '\n';
  }
}

void file_decision_publisher::seal(std::uint64_t batch_id) {
  // Everything published so far is queued: every part of this batch, and
  // perhaps parts of later batches, which are delivered at their own seal.
  queued_ += open_text_;
  open_text_.clear();
  queued_batches_.emplace_back(batch_id, queued_.size());
  write_queued();
}

bool file_decision_publisher::write_queued() {
  std::size_t written = 0;
  bool ok = true;
  while (written < queued_.size()) {
    auto n = ::write(fd_, queued_.data() + written, queued_.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (!failing_)
        std::cerr << "vigil: writing " << path_ << " failed (" << std::strerror(errno)
                  << "); decisions wait and the stream pauses until it succeeds\n";
      write_failures().add();
      ok = false;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  // Batches whose text is wholly written are delivered.
  std::size_t done = 0;
  while (done < queued_batches_.size() && queued_batches_[done].second <= written)
    delivered_.push_back(queued_batches_[done++].first);
  queued_batches_.erase(queued_batches_.begin(), queued_batches_.begin() + static_cast<std::ptrdiff_t>(done));
  for (auto& [id, end] : queued_batches_)
    end -= written;
  queued_.erase(0, written);
  if (ok && failing_)
    std::cerr << "vigil: writing " << path_ << " works again\n";
  failing_ = !ok;
  write_failing().set(failing_ ? 1 : 0);
  return ok;
}

std::vector<std::uint64_t> file_decision_publisher::take_delivered() {
  if (!queued_.empty())
    write_queued();  // the retry after a failure
  return std::exchange(delivered_, {});
}

} // namespace vigil::connectors
