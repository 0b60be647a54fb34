#include "models/serving/batch_scoring.h"

#include "models/serving/rule_decision.h"

#include <algorithm>
#include <limits>

namespace vigil::models {

decision_batch score_batch(const pipeline::work_batch& items, const scoring_model& model,
                           const decision_thresholds& thresholds, bool reasons_for_all,
                           const std::vector<int>& masked_features, bool flagged_reasons,
                           const rules::rule_set* rules) {
  decision_batch out;
  out.reserve(items.size());
  std::vector<double> probabilities(items.size());
  std::vector<float> rows(items.size() * pipeline::feature_count);
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto row = rows.begin() + static_cast<std::ptrdiff_t>(i * pipeline::feature_count);
    std::copy(items[i].features.begin(), items[i].features.end(), row);
    for (int f : masked_features)
      row[f] = std::numeric_limits<float>::quiet_NaN();
  }
  model.forest.predict_batch(rows.data(), items.size(), probabilities.data());
  auto now = pipeline::steady_now_ns();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    decision_record d;
    d.sequence = item.sequence;
    d.transaction_id = item.tx.transaction_id;
    d.user_id = item.tx.user_id;
    d.merchant_id = item.tx.merchant_id;
    d.event_time_ms = item.tx.event_time_ms;
    d.probability = probabilities[i];
    d.decision = decide(d.probability, thresholds);
    d.model_version = model.version;
    std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(i * pipeline::feature_count),
                pipeline::feature_count, d.features.begin());
    if (rules)
      apply_rules(d, item.tx, *rules, thresholds);
    if (reasons_for_all || (flagged_reasons && d.decision != decision_kind::approve))
      d.reasons = model.top_reasons(d.features);
    d.ingest_ns = item.ingest_ns;
    d.source_time_ms = item.source_time_ms;
    d.latency_us = item.ingest_ns ? (now - item.ingest_ns) / 1000 : 0;
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace vigil::models
