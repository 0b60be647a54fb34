#pragma once
// One side of a backtest: a model version with its rules and thresholds,
// scoring replayed vectors exactly as a scorer does, and the tally of what
// it decided. `vigil backtest` (from an input file) and POST /backtest
// (from the node's decisions log) both use it. Plain C++.

#include "models/evaluation/backtest_tally.h"
#include "models/registry/model_registry.h"
#include "models/serving/decision_record.h"
#include "pipeline/rules/rule_set.h"
#include "pipeline/stream/work_item.h"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace vigil::models {

struct backtest_side {
  model_ptr model;
  rules::rule_set rules;
  std::size_t rule_count = 0;
  decision_thresholds thresholds;
  backtest_tally tally;

  /// Scores one transaction's vector (reasons for flagged decisions, rules
  /// after the model), and tallies it against `label`.
  decision_record score(const pipeline::transaction& tx, const pipeline::feature_vector& features,
                        std::optional<bool> label);
  /// The tally's report with the model version, rule count and thresholds.
  nlohmann::json report() const;
};

/// Loads `version` from `registry` (throws registry_error, or what the
/// model's checks throw); review at the model's own threshold, decline at
/// `decline` (or the model's threshold when higher).
backtest_side make_backtest_side(const model_registry& registry, int version,
                                 const std::vector<rules::rule_definition>& rules, double decline);

} // namespace vigil::models
