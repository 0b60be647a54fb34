#include "models/drift/drift_view.h"

namespace vigil::models {

drift_view::drift_view(std::shared_ptr<drift_tracker> local, bool clustered)
  : local_(std::move(local)), clustered_(clustered) {}

void drift_view::set_cluster(drift_report report, std::int64_t read_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  cluster_ = std::move(report);
  read_ms_ = read_ms;
}

void drift_view::cluster_unavailable(std::string why) {
  std::lock_guard<std::mutex> lock(mutex_);
  unavailable_ = std::move(why);
}

drift_report drift_view::report(std::int64_t now_ms) const {
  if (clustered_) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cluster_ && now_ms - read_ms_ <= cluster_reading_max_age_ms)
      return *cluster_;
  }
  auto own = local_->report();
  if (clustered_ && own.has_reference) {
    std::lock_guard<std::mutex> lock(mutex_);
    own.status += " (this node's traffic only: " + unavailable_ + ")";
  }
  return own;
}

} // namespace vigil::models
