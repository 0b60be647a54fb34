#pragma once
// The published form of a decision (fraud_predictions, decisions file, /predict).

#include "models/serving/decision_record.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace vigil::models {

/// The JSON text of a decision: {"decision", "event_time",
/// "feature_snapshot_id", "latency_us", "merchant_id", "model_version",
/// "probability", "reasons", "transaction_id", "user_id", ...} (keys in that
/// alphabetical order). `with_features` adds the named feature values that
/// were scored (missing ones null); every number reads back as the same
/// value. Written directly (a few microseconds), not through a JSON DOM.
std::string render_decision(const decision_record& d, bool with_features);
/// The same, parsed (tests and tools that want an object).
nlohmann::json decision_to_json(const decision_record& d, bool with_features);

/// Reads back a decision published with its features: the ids, event time,
/// probability, model version and the exact feature vector that was scored,
/// and (when present and well-formed) the decision, rule hits and reasons.
/// nullopt when a required field is missing or malformed.
std::optional<decision_record> decision_from_json(const nlohmann::json& j);

/// Stable id of a feature vector (hex FNV-1a of its bytes): labels join on it.
std::string feature_snapshot_id(const pipeline::feature_vector& features);

/// Fills reasons (for flagged decisions, or all with `explain`) with the
/// model that scored them, sets latency, and renders each decision as the
/// JSON object /predict answers with (the scored vector in it when
/// `with_features`; its feature_snapshot_id always).
std::vector<std::string> finish_decisions(decision_batch& decisions, const scoring_model& model,
                                          bool explain, bool with_features, std::int64_t received_ns);

} // namespace vigil::models
