#pragma once
// The scored outcome of one record, as published and as /predict answers.
// Plain C++.

#include "models/serving/decision_policy.h"
#include "models/serving/scoring_model.h"
#include "pipeline/features/feature_schema.h"
#include "pipeline/rules/rule_set.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::models {

using model_ptr = std::shared_ptr<const scoring_model>;

/// The scored outcome of one record.
struct decision_record {
  std::uint64_t sequence = 0;
  std::string transaction_id, user_id, merchant_id;
  std::int64_t event_time_ms = 0;
  double probability = 0;
  decision_kind decision = decision_kind::approve;
  int model_version = 0;
  std::vector<decision_reason> reasons;  ///< for flagged records
  std::vector<rules::rule_hit> rule_hits;  ///< rules that fired, in list order
  double rule_adjustment = 0;  ///< the adjust hits' score_delta, summed
  pipeline::feature_vector features{};           ///< exactly what was scored
  std::int64_t ingest_ns = 0;
  std::int64_t latency_us = 0;   ///< source read to scored
  std::int64_t source_time_ms = 0;  ///< produce time of the input record, 0 if none
  bool shadow = false;
};

using decision_batch = std::vector<decision_record>;

/// A scorer's answer to a request: the decisions and the model that made
/// them (explanations must use that model, even across a hot swap).
struct scored_batch {
  decision_batch decisions;
  model_ptr model;
};

} // namespace vigil::models
