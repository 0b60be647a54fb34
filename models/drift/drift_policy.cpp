#include "models/drift/drift_policy.h"

#include "pipeline/metrics/metrics_registry.h"

#include <cstdio>

namespace vigil::models {

void publish_drift_metrics(const drift_report& report) {
  auto& m = pipeline::metrics();
  m.get_gauge("vigil_drift_reference_present", "1 when the served model has a training profile to compare with")
    .set(report.has_reference ? 1 : 0);
  for (const auto& w : report.windows) {
    const std::string window = "window=\"" + w.window + "\"";
    m.get_gauge("vigil_drift_window_rows{" + window + "}", "Live decisions in the drift window (event time)")
      .set(static_cast<double>(w.rows));
    m.get_gauge("vigil_drift_window_complete{" + window + "}",
                "1 when drift counts span the whole window (tracking began a window's length ago)")
      .set(w.complete ? 1 : 0);
    m.get_gauge("vigil_score_drift_psi{" + window + "}", "PSI of the live score against the training slice")
      .set(w.score.psi);
    for (const auto& f : w.features) {
      const std::string labels = "{feature=\"" + f.name + "\"," + window + "}";
      m.get_gauge("vigil_feature_drift_psi" + labels, "PSI of a live feature against the training slice")
        .set(f.psi);
      m.get_gauge("vigil_feature_missing_share_change" + labels,
                  "Live share missing minus the training slice's, per feature")
        .set(f.missing_share - f.reference_missing_share);
    }
  }
}

std::optional<std::string> drift_retrain_reason(const drift_report& report, const std::string& window,
                                                double psi_threshold, std::int64_t min_rows) {
  if (psi_threshold <= 0 || !report.has_reference)
    return std::nullopt;
  for (const auto& w : report.windows) {
    if (w.window != window)
      continue;
    if (!w.complete || w.rows < min_rows)
      return std::nullopt;
    const variable_drift* worst = w.most_drifted();
    if (!worst || w.score.psi > worst->psi)
      worst = &w.score;
    if (worst->psi <= psi_threshold)
      return std::nullopt;
    char text[200];
    std::snprintf(text, sizeof text, "%s PSI %.3f over the last %s (%lld rows) exceeds %.3f", worst->name.c_str(),
                  worst->psi, window.c_str(), static_cast<long long>(w.rows), psi_threshold);
    return std::string(text);
  }
  return std::nullopt;
}

} // namespace vigil::models
