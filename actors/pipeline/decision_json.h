#pragma once
// The published form of a decision (fraud_predictions, decisions file, /predict).

#include "actors/pipeline/pipeline_messages.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace vigil::actors {

/// {"transaction_id", "user_id", "probability", "decision", "reasons",
///  "model_version", "feature_snapshot_id", "latency_us", ...}.
/// `with_features` adds the named feature values that were scored.
nlohmann::json decision_to_json(const decision_record& d, bool with_features);

/// Reads back a decision published with its features: the ids, event time,
/// probability, model version and the exact feature vector that was scored
/// (not the reasons). nullopt when a field is missing or malformed.
std::optional<decision_record> decision_from_json(const nlohmann::json& j);

/// Stable id of a feature vector (hex FNV-1a of its bytes): labels join on it.
std::string feature_snapshot_id(const pipeline::feature_vector& features);

} // namespace vigil::actors
