#pragma once
// Scoring a batch of work items with one model: the scorer actors' work,
// and batch scoring's, as plain C++.

#include "models/serving/decision_policy.h"
#include "models/serving/decision_record.h"
#include "pipeline/rules/rule_set.h"
#include "pipeline/stream/work_item.h"

#include <vector>

namespace vigil::models {

/// Scores a batch with one model: probability, decision, reasons (for flagged
/// records when `flagged_reasons`, for all when `reasons_for_all`), latency.
/// Features at `masked_features` indexes are scored (and logged) as missing.
/// `rules`, when given, decide with the model (models/serving/rule_decision.h).
decision_batch score_batch(const pipeline::work_batch& items, const scoring_model& model,
                           const decision_thresholds& thresholds, bool reasons_for_all,
                           const std::vector<int>& masked_features = {}, bool flagged_reasons = true,
                           const rules::rule_set* rules = nullptr);

} // namespace vigil::models
