#pragma once
// Coalesces concurrent /predict requests into passes through the shards and
// scorers: at most `max_in_flight` passes run at once; what arrives while
// they run waits and leaves as one pass when a slot frees. An idle gateway
// starts a pass at once, so nothing ever waits for a batch to fill. Plain
// C++, no CAF.

#include "http/predict_job.h"

#include <array>
#include <deque>
#include <optional>

namespace vigil::http {

/// Requests of one kind (same `update` and `expensive`) taking one pass.
struct predict_pass {
  bool update = false, expensive = false;
  std::vector<predict_job_ptr> jobs;
  std::vector<std::size_t> offsets;  ///< job i's items start at offsets[i]
  std::size_t items = 0;
};

class predict_coalescer {
 public:
  /// `max_pass_items` caps a pass (a larger single job still goes whole);
  /// `max_queued_items` bounds what may wait.
  predict_coalescer(std::size_t max_in_flight, std::size_t max_pass_items,
                    std::size_t max_queued_items);
  /// Queues a job; false (job not taken) when the queue is full.
  bool add(predict_job_ptr job);
  /// The next pass, if a slot is free and anything waits: whole jobs of the
  /// kind whose oldest job waited longest, in arrival order.
  std::optional<predict_pass> next();
  /// A pass returned by next() has finished.
  void finished();
  std::size_t in_flight() const { return in_flight_; }
  std::size_t queued_items() const { return queued_items_; }

 private:
  static int kind_of(const predict_job& job) { return (job.update ? 2 : 0) + (job.expensive ? 1 : 0); }

  std::size_t max_in_flight_, max_pass_items_, max_queued_items_;
  std::size_t in_flight_ = 0, queued_items_ = 0;
  std::uint64_t next_arrival_ = 0;
  std::array<std::deque<std::pair<std::uint64_t, predict_job_ptr>>, 4> queues_;
};

} // namespace vigil::http
