#pragma once
// The drift a node reports (GET /models, /metrics, the retraining trigger):
// alone, its own traffic's; in a cluster, every node's, as last read from
// the cluster's counts, and its own (saying why) when no reading is recent.
// Thread-safe. Plain C++, no CAF.

#include "models/drift/live_drift.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vigil::models {

class drift_view {
 public:
  /// A reading of the cluster's counts older than this is not reported.
  static constexpr std::int64_t cluster_reading_max_age_ms = 30'000;

  /// `clustered`: the cluster's report is expected (set_cluster).
  drift_view(std::shared_ptr<drift_tracker> local, bool clustered);

  drift_tracker& local() { return *local_; }
  bool clustered() const { return clustered_; }
  /// The cluster's report as read at `read_ms` (wall clock).
  void set_cluster(drift_report report, std::int64_t read_ms);
  /// Why the cluster's counts could not be read or used.
  void cluster_unavailable(std::string why);
  /// The cluster's report when one was read within the maximum age before
  /// `now_ms`, else this node's own (status naming why).
  drift_report report(std::int64_t now_ms) const;

 private:
  std::shared_ptr<drift_tracker> local_;
  bool clustered_ = false;
  mutable std::mutex mutex_;
  std::optional<drift_report> cluster_;
  std::int64_t read_ms_ = 0;
  std::string unavailable_ = "cluster counts not read yet";
};

} // namespace vigil::models
