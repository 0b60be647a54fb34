#include "models/drift/label_quality.h"

#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

namespace vigil::models {
namespace {

constexpr std::int64_t day_ms = 24 * 3600'000;

// Day number of the Monday starting the week of `ms` (1970-01-01 was a Thursday).
std::int64_t monday_of(std::int64_t ms) {
  std::int64_t day = ms >= 0 ? ms / day_ms : -((-ms + day_ms - 1) / day_ms);
  std::int64_t since_monday = ((day + 3) % 7 + 7) % 7;
  return day - since_monday;
}

} // namespace

double week_quality::precision() const {
  return flagged ? static_cast<double>(flagged_fraud) / static_cast<double>(flagged) : 0.0;
}

double week_quality::recall() const {
  return fraud ? static_cast<double>(flagged_fraud) / static_cast<double>(fraud) : 0.0;
}

void label_quality::add(std::int64_t label_time_ms, bool flagged, bool is_fraud) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::int64_t monday = monday_of(label_time_ms);
  if (by_week_.size() >= max_weeks_ && monday < by_week_.begin()->first)
    return;  // older than every week kept
  auto& w = by_week_[monday];
  if (w.week_of.empty())
    w.week_of = pipeline::format_iso8601_ms(monday * day_ms).substr(0, 10);
  ++w.labels;
  w.fraud += is_fraud;
  w.flagged += flagged;
  w.flagged_fraud += flagged && is_fraud;
  while (by_week_.size() > max_weeks_)
    by_week_.erase(by_week_.begin());
}

std::vector<week_quality> label_quality::weeks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<week_quality> out;
  for (auto it = by_week_.rbegin(); it != by_week_.rend(); ++it)
    out.push_back(it->second);
  return out;
}

nlohmann::json to_json(const std::vector<week_quality>& weeks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : weeks)
    out.push_back({{"week_of", w.week_of}, {"labels", w.labels}, {"fraud", w.fraud}, {"flagged", w.flagged},
                   {"flagged_fraud", w.flagged_fraud}, {"precision", w.precision()}, {"recall", w.recall()}});
  return out;
}

void publish_label_quality_metrics(const std::vector<week_quality>& weeks) {
  if (weeks.empty())
    return;
  auto& m = pipeline::metrics();
  const auto& w = weeks.front();
  m.get_gauge("vigil_label_week_labels", "Labels arrived in the newest label week").set(static_cast<double>(w.labels));
  m.get_gauge("vigil_label_week_precision", "Newest label week: share of flagged labelled decisions that are fraud")
    .set(w.precision());
  m.get_gauge("vigil_label_week_recall", "Newest label week: share of fraud labels whose decision was flagged")
    .set(w.recall());
}

} // namespace vigil::models
