#pragma once
// A backtest over a node's decisions log instead of an input file: each
// logged decision's feature vector (exactly what was scored) is decided
// again by production and by a candidate, against the labels stored for
// them. The log holds the ids, event time and features, not the whole
// transaction: tx.amount and tx.channel are read back from their features,
// and rules on the other transaction texts (country, currency, category,
// device) see them missing. Plain C++.

#include "models/registry/model_registry.h"
#include "models/serving/decision_record.h"
#include "pipeline/rules/rule_set.h"
#include "pipeline/schema/label_event.h"

#include <nlohmann/json_fwd.hpp>

#include <vector>

namespace vigil::models {

struct log_backtest_request {
  int candidate_version = 0;
  std::vector<rules::rule_definition> candidate_rules;
  int production_version = 0;
  std::vector<rules::rule_definition> production_rules;
  double decline = 0.9;  ///< decline threshold for both (review: each model's own)
};

/// {"production", "candidate", "changes", "rows", "labelled", "duplicates",
/// "first_event_time", "last_event_time", "source": "decisions log"}.
/// A transaction logged twice (a replay) counts once, as last logged; a
/// label counts as the last stored for it. Throws registry_error (or the
/// model's load error) for a version that cannot be loaded.
nlohmann::json backtest_decisions_log(const model_registry& registry, const std::vector<decision_record>& decisions,
                                      const std::vector<pipeline::label_event>& labels,
                                      const log_backtest_request& request);

} // namespace vigil::models
