#pragma once
// What a drift report leads to: gauges in /metrics, and whether it is large
// enough to retrain. Plain C++, no CAF.

#include "models/drift/live_drift.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::models {

/// Sets vigil_feature_drift_psi{feature,window}, vigil_feature_missing_share_change{feature,window},
/// vigil_score_drift_psi{window}, vigil_drift_window_rows{window},
/// vigil_drift_window_complete{window} and vigil_drift_reference_present.
void publish_drift_metrics(const drift_report& report);

/// Why the traffic of `window` (one of drift_windows()) calls for
/// retraining: a feature (or the score) whose PSI exceeds `psi_threshold`
/// over at least `min_rows` rows of a complete window; nothing when the
/// threshold is 0 (off), there is no reference, the window is not yet
/// complete, or it has too few rows.
std::optional<std::string> drift_retrain_reason(const drift_report& report, const std::string& window,
                                                double psi_threshold, std::int64_t min_rows);

} // namespace vigil::models
