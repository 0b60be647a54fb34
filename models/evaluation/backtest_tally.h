#pragma once
// A backtest's bookkeeping: what one variant (a model version and a rule
// set) decided over replayed, labelled history, and how two variants'
// decisions differ. Plain C++; `vigil backtest` fills it.

#include "models/serving/decision_record.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vigil::models {

class backtest_tally {
 public:
  /// One scored row; `is_fraud` when the row carries a label.
  void add(const decision_record& d, std::optional<bool> is_fraud);

  /// {"decisions": {approve, review, decline}, "labelled", "frauds",
  ///  "pr_auc" (of the model's probability; null without both classes),
  ///  "flagged" and "declined": {precision, recall, tp, fp, fn, tn} over
  ///  the labelled rows (flagged = review or decline, rules included),
  ///  "alerts_per_day": {mean, max, days} (flagged rows per UTC day of
  ///  event time), "rule_hits": {id: count}}.
  nlohmann::json report() const;

 private:
  struct counts {
    std::int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    void add(bool positive, bool fraud);
    nlohmann::json report() const;
  };
  std::int64_t approve_ = 0, review_ = 0, decline_ = 0;
  std::vector<float> scores_, labels_;
  counts flagged_, declined_;
  std::map<std::int64_t, std::int64_t> alerts_by_day_;
  std::set<std::int64_t> days_seen_;
  std::map<std::string, std::int64_t> rule_hits_;
};

/// How many rows two variants decided differently, by (production,
/// candidate) outcome.
class decision_changes {
 public:
  void add(decision_kind production, decision_kind candidate);
  /// {"rows", "changed", "by_outcome": {"approve->review": n, ...}}.
  nlohmann::json report() const;

 private:
  std::int64_t rows_ = 0, changed_ = 0;
  std::map<std::string, std::int64_t> by_outcome_;
};

} // namespace vigil::models
