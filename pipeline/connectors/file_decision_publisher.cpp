#include "models/serving/decision_json.h"
#include "pipeline/connectors/decision_publisher.h"
#include "pipeline/metrics/metrics_registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

// Cuts a last line without its newline off the file: a write cut short by
// a full disk, then a crash. Its decision was not delivered, so it is scored
// again after the restart; left in place, the next line would be glued to
// it. Returns the bytes dropped.
std::size_t drop_torn_tail(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0)
    return 0;
  char buf[4096];
  off_t end = st.st_size;
  while (end > 0) {
    auto n = static_cast<std::size_t>(std::min<off_t>(end, sizeof buf));
    if (::pread(fd, buf, n, end - static_cast<off_t>(n)) != static_cast<ssize_t>(n))
      return 0;  // unreadable: leave it as it is
    for (auto i = n; i > 0; --i)
      if (buf[i - 1] == '\n') {
        auto keep = end - static_cast<off_t>(n) + static_cast<off_t>(i);
        if (keep == st.st_size || ::ftruncate(fd, keep) != 0)
          return 0;
        return static_cast<std::size_t>(st.st_size - keep);
      }
    end -= static_cast<off_t>(n);
  }
  return ::ftruncate(fd, 0) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
}

// Best effort: shadow decisions never hold the stream.
void write_shadow(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      pipeline::metrics()
        .get_counter("vigil_shadow_write_failures_total", "Shadow decision writes that failed and were dropped")
        .add();
      return;
    }
    written += static_cast<std::size_t>(n);
  }
}

} // namespace

std::string shadow_decisions_path(const std::string& path) {
  auto slash = path.rfind('/');
  auto dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == slash + 1)
    return path + "-shadow";
  return path.substr(0, dot) + "-shadow" + path.substr(dot);
}

file_decision_publisher::file_decision_publisher(const std::string& path)
  : path_(path), fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
  if (fd_ < 0)
    throw std::runtime_error("cannot open decisions file " + path + ": " + std::strerror(errno));
  if (auto dropped = drop_torn_tail(fd_))
    std::cerr << "vigil: dropped the torn last line of " << path << " (" << dropped
              << " bytes, a write cut short before a crash); its decision is scored again\n";
  struct stat st {};
  whole_size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  write_failing().set(0);
}

file_decision_publisher::~file_decision_publisher() {
  if (fd_ >= 0)
    ::close(fd_);
  if (shadow_fd_ >= 0)
    ::close(shadow_fd_);
}

void file_decision_publisher::publish(std::uint64_t, const decision_batch& decisions) {
  for (const auto& d : decisions) {
    auto& text = d.shadow ? shadow_text_ : open_text_;
    text += render_decision(d, true);
    text += '\n';
  }
}

void file_decision_publisher::seal(std::uint64_t batch_id) {
  // Everything published so far is queued: every part of this batch, and
  // perhaps parts of later batches, which are delivered at their own seal.
  queued_ += open_text_;
  open_text_.clear();
  queued_batches_.emplace_back(batch_id, queued_.size());
  write_queued();
  if (shadow_text_.empty())
    return;
  if (shadow_fd_ == -1) {  // -2: could not be opened, said once
    auto shadow_path = shadow_decisions_path(path_);
    shadow_fd_ = ::open(shadow_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (shadow_fd_ < 0 && (shadow_fd_ = -2))
      std::cerr << "vigil: cannot open the shadow decisions file " << shadow_path << ": " << std::strerror(errno)
                << "; shadow decisions are dropped\n";
  }
  if (shadow_fd_ >= 0)
    write_shadow(shadow_fd_, shadow_text_);
  shadow_text_.clear();
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
  if (!ok) {
    // A write cut short leaves part of a line: take it back, so the file
    // holds whole lines only (the rest is written again on the retry).
    auto end_of_line = written == 0 ? std::string::npos : queued_.rfind('\n', written - 1);
    auto keep = end_of_line == std::string::npos ? 0 : end_of_line + 1;
    if (keep != written && ::ftruncate(fd_, whole_size_ + static_cast<off_t>(keep)) == 0)
      written = keep;
  }
  whole_size_ += static_cast<off_t>(written);
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
