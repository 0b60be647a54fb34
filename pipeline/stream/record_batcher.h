#pragma once
// The batch a source fills from its input, and when it is due: full, older
// than its deadline, or the input finished. Plain C++.

#include "pipeline/stream/work_item.h"

#include <cstdint>
#include <vector>

namespace vigil::pipeline {

class record_batcher {
 public:
  /// Where the input appends records; a batch starts its deadline clock
  /// when filling starts while it is empty.
  work_batch& fill(std::int64_t now_ns);
  /// Records that fit before the batch holds `target` (0 once it holds
  /// that many or more: a live config may have shrunk the target).
  std::size_t room(std::size_t target) const;
  /// Whether to hand the batch over now: it holds `target`, has waited
  /// `deadline_ns` since filling started, or `input_finished` (a finite
  /// input with nothing more to come). An empty batch is never due.
  bool due(std::size_t target, std::int64_t deadline_ns, std::int64_t now_ns, bool input_finished) const;
  /// Removes the records of `partitions` (let go: their next owner reads
  /// them from its checkpoint); returns how many.
  std::size_t drop_partitions(const std::vector<std::int32_t>& partitions);
  /// The batch, leaving this one empty.
  work_batch take();
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }

 private:
  work_batch items_;
  std::int64_t started_ns_ = 0;
};

} // namespace vigil::pipeline
