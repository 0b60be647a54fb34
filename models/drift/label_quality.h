#pragma once
// How the served decisions fare against the labels that come back: per week
// of label arrival (weeks start on Monday, UTC), precision and recall of
// "flagged" (review or decline, the thresholds served at the time) against
// the fraud labels. Labels arrive days to weeks late, so a week's figures
// fill in as they do. Thread-safe: the retrain coordinator adds, GET /models
// reads. Plain C++, no CAF.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vigil::models {

struct week_quality {
  std::string week_of;  ///< its Monday, "YYYY-MM-DD"
  std::int64_t labels = 0, fraud = 0, flagged = 0, flagged_fraud = 0;
  double precision() const;  ///< flagged_fraud / flagged (0 when nothing was flagged)
  double recall() const;     ///< flagged_fraud / fraud (0 when no fraud)
};

class label_quality {
 public:
  /// Keeps the newest `weeks` weeks.
  explicit label_quality(std::size_t weeks = 12) : max_weeks_(weeks) {}
  /// One transaction's first label: when it arrived, whether it was flagged
  /// when scored, and whether it is fraud.
  void add(std::int64_t label_time_ms, bool flagged, bool is_fraud);
  /// Newest week first.
  std::vector<week_quality> weeks() const;

 private:
  std::size_t max_weeks_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, week_quality> by_week_;  ///< by Monday's day number since 1970-01-01
};

nlohmann::json to_json(const std::vector<week_quality>& weeks);
/// Sets vigil_label_week_precision, vigil_label_week_recall and
/// vigil_label_week_labels for the newest week.
void publish_label_quality_metrics(const std::vector<week_quality>& weeks);

} // namespace vigil::models
