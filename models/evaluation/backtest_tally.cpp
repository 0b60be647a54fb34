#include "models/evaluation/backtest_tally.h"

#include "models/evaluation/classification_metrics.h"

#include <algorithm>

namespace vigil::models {
namespace {

constexpr std::int64_t day_ms = 86'400'000;

std::int64_t utc_day(std::int64_t event_time_ms) {
  return event_time_ms >= 0 ? event_time_ms / day_ms : (event_time_ms - day_ms + 1) / day_ms;
}

} // namespace

void backtest_tally::counts::add(bool positive, bool fraud) {
  (positive ? (fraud ? tp : fp) : (fraud ? fn : tn)) += 1;
}

nlohmann::json backtest_tally::counts::report() const {
  confusion_matrix m;
  m.true_positive = tp;
  m.false_positive = fp;
  m.false_negative = fn;
  m.true_negative = tn;
  return {{"precision", m.precision()}, {"recall", m.recall()}, {"tp", tp}, {"fp", fp}, {"fn", fn}, {"tn", tn}};
}

void backtest_tally::add(const decision_record& d, std::optional<bool> is_fraud) {
  const bool flagged = d.decision != decision_kind::approve;
  const bool declined = d.decision == decision_kind::decline;
  (declined ? decline_ : flagged ? review_ : approve_) += 1;
  const auto day = utc_day(d.event_time_ms);
  days_seen_.insert(day);
  if (flagged)
    ++alerts_by_day_[day];
  for (const auto& h : d.rule_hits)
    ++rule_hits_[h.id];
  if (!is_fraud)
    return;
  scores_.push_back(static_cast<float>(d.probability));
  labels_.push_back(*is_fraud ? 1.0f : 0.0f);
  flagged_.add(flagged, *is_fraud);
  declined_.add(declined, *is_fraud);
}

nlohmann::json backtest_tally::report() const {
  const auto frauds = std::count(labels_.begin(), labels_.end(), 1.0f);
  nlohmann::json pr = nullptr;
  if (frauds > 0 && frauds < static_cast<std::ptrdiff_t>(labels_.size()))
    pr = pr_auc(scores_, labels_);
  std::int64_t most = 0, total = 0;
  for (const auto& [day, n] : alerts_by_day_) {
    most = std::max(most, n);
    total += n;
  }
  const auto days = static_cast<std::int64_t>(days_seen_.size());
  nlohmann::json hits = nlohmann::json::object();
  for (const auto& [id, n] : rule_hits_)
    hits[id] = n;
  return {{"decisions", {{"approve", approve_}, {"review", review_}, {"decline", decline_}}},
          {"labelled", labels_.size()},
          {"frauds", frauds},
          {"pr_auc", pr},
          {"flagged", flagged_.report()},
          {"declined", declined_.report()},
          {"alerts_per_day",
           {{"mean", days ? static_cast<double>(total) / static_cast<double>(days) : 0.0},
            {"max", most},
            {"days", days}}},
          {"rule_hits", hits}};
}

void decision_changes::add(decision_kind production, decision_kind candidate) {
  ++rows_;
  if (production == candidate)
    return;
  ++changed_;
  ++by_outcome_[std::string(to_string(production)) + "->" + to_string(candidate)];
}

nlohmann::json decision_changes::report() const {
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [change, n] : by_outcome_)
    by[change] = n;
  return {{"rows", rows_}, {"changed", changed_}, {"by_outcome", by}};
}

} // namespace vigil::models
