#include "models/serving/rule_decision.h"

#include <algorithm>

namespace vigil::models {

decision_kind decide_with_hits(double probability, const std::vector<rules::rule_hit>& hits,
                               const decision_thresholds& thresholds) {
  double delta = 0;
  bool decline = false, allow = false, review = false;
  for (const auto& h : hits) {
    switch (h.action) {
      case rules::rule_action::decline: decline = true; break;
      case rules::rule_action::allow: allow = true; break;
      case rules::rule_action::review: review = true; break;
      case rules::rule_action::adjust: delta += h.score_delta; break;
    }
  }
  if (decline)
    return decision_kind::decline;
  if (allow)
    return decision_kind::approve;
  auto kind = decide(std::clamp(probability + delta, 0.0, 1.0), thresholds);
  return review && kind == decision_kind::approve ? decision_kind::review : kind;
}

void apply_rules(decision_record& d, const pipeline::transaction& tx, const rules::rule_set& rules,
                 const decision_thresholds& thresholds) {
  if (rules.empty())
    return;
  rules.evaluate(rules::rule_input{tx, d.features, d.probability}, d.rule_hits);
  if (d.rule_hits.empty())
    return;
  d.rule_adjustment = 0;
  for (const auto& h : d.rule_hits)
    d.rule_adjustment += h.score_delta;
  d.decision = decide_with_hits(d.probability, d.rule_hits, thresholds);
}

} // namespace vigil::models
