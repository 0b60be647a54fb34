#pragma once
// Retraining's decision: train a challenger on all but the most recent
// labelled slice, score challenger and champion on that recent slice
// (which neither trained on), promote only if the challenger's PR-AUC beats
// the champion's by the margin.

#include "models/forest_evaluator.h"
#include "models/training/model_trainer.h"

#include <optional>
#include <string>

namespace vigil::models {

struct challenge_result {
  training_result challenger;
  pipeline::feature_table training_rows;  ///< the rows the challenger learnt from
  double challenger_pr_auc = 0;  ///< on the recent slice
  double champion_pr_auc = 0;    ///< on the same slice
  std::size_t recent_rows = 0, recent_positives = 0;
  bool promote = false;
  std::string reason;
};

/// `rows` sorted by event time. `recent_fraction` of the newest rows form
/// the evaluation slice. Throws std::invalid_argument when a slice lacks
/// positives (too few labels to judge).
challenge_result challenge(const pipeline::feature_table& rows, const forest_evaluator* champion,
                           const training_options& options, double recent_fraction,
                           double margin);

} // namespace vigil::models
