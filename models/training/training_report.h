#pragma once
// The artefacts of a training run: a JSON report and two SVG images.

#include "models/training/model_trainer.h"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil::models {

/// Metrics, parameters, trials, split windows and per-pattern recall.
nlohmann::json report_json(const training_result& r);
nlohmann::json evaluation_json(const evaluation& e);

/// A PR curve plot (recall on x, precision on y) with the chosen threshold marked.
std::string pr_curve_svg(const evaluation& e);
/// A 2x2 confusion matrix as a shaded grid with counts.
std::string confusion_svg(const confusion_matrix& c, double threshold);

} // namespace vigil::models
