#pragma once
// The decision after the rules (pipeline/rules/rule_set.h) have seen a
// scored record. Plain C++.

#include "models/serving/decision_policy.h"
#include "models/serving/decision_record.h"
#include "pipeline/rules/rule_set.h"

namespace vigil::models {

/// Evaluates `rules` on `d` (its scored, masked feature vector; its model
/// probability) and `tx`, records the hits and the summed score_delta in
/// `d`, and sets its decision: the thresholds on the probability plus the
/// deltas (clamped to [0, 1]); then a decline hit declines, else an allow
/// hit approves, else a review hit raises an approve to review.
void apply_rules(decision_record& d, const pipeline::transaction& tx, const rules::rule_set& rules,
                 const decision_thresholds& thresholds);

/// The same combination, from hits already found.
decision_kind decide_with_hits(double probability, const std::vector<rules::rule_hit>& hits,
                               const decision_thresholds& thresholds);

} // namespace vigil::models
