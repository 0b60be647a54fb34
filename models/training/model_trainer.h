#pragma once
// Trains the fraud model: temporal split with a label-delay gap, labels
// used only once known, random search (class weighting included) with
// early stopping on validation PR-AUC, a plain-XGBoost baseline that the
// chosen model must match on validation, and an F2 threshold chosen on the
// validation slice only. The test slice is touched once, at the end.

#include "models/evaluation/classification_metrics.h"
#include "models/training/temporal_split.h"
#include "pipeline/features/labelled_replay.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::models {

struct hyperparameters {
  int max_depth = 6;
  double eta = 0.1;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double min_child_weight = 1;
  bool class_weighted = true;  ///< scale_pos_weight = negatives / positives
  int rounds = 0;  ///< boosting rounds kept after early stopping
};

/// XGBoost's own defaults (depth 6, eta 0.3, no subsampling, no class
/// weight) at 100 rounds: the baseline every report shows.
hyperparameters plain_xgboost_defaults();

struct training_options {
  int trials = 6;                ///< random-search trials
  int max_rounds = 300;
  int early_stopping_rounds = 40;
  int eval_every = 10;           ///< rounds between validation checks
  std::uint64_t seed = 7;
  int threads = 2;
  double train_fraction = 0.7;
  double validation_fraction = 0.15;
  /// Event time between training and validation, and between validation
  /// and test. Unset: the median delay of the table's labels (0 when the
  /// table has no label times: every label is known now).
  std::optional<std::int64_t> gap_ms;
  double f_beta = 2.0;
};

struct trial_record {
  hyperparameters params;
  double validation_pr_auc = 0;
  double seconds = 0;
};

/// Test-slice evaluation of a model at a fixed threshold.
struct evaluation {
  double pr_auc = 0, roc_auc = 0;
  double threshold = 0.5;
  confusion_matrix confusion;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> pattern_hits;  ///< pattern -> (caught, total)
  std::vector<pr_point> curve;
  std::int64_t rows = 0, positives = 0;
};

/// The plain-XGBoost baseline, scored on the same rows as the chosen model.
struct baseline_result {
  hyperparameters params;
  std::string model_json;  ///< XGBoost JSON
  double validation_pr_auc = 0;
  evaluation test;  ///< at its own F2 threshold from validation
};

struct training_result {
  std::string model_json;     ///< XGBoost JSON, trimmed to the best round
  hyperparameters best;
  double validation_pr_auc = 0;
  double threshold = 0.5;     ///< chosen on validation for F-beta
  evaluation test;
  std::vector<trial_record> trials;
  baseline_result baseline;
  bool baseline_chosen = false;  ///< the search did not beat it on validation
  temporal_split split;
  /// Rows of the training and validation slices left out because their
  /// label was not known when the model was fitted (selected).
  std::size_t train_labels_unknown = 0, validation_labels_unknown = 0;
  std::int64_t train_start_ms = 0, train_end_ms = 0;
  std::int64_t validation_end_ms = 0, test_end_ms = 0;
  double scale_pos_weight = 1;
  double seconds = 0;
};

/// Progress lines ("trial 2/6 round 120 val PR-AUC 0.81") for the console.
using progress_callback = std::function<void(const std::string&)>;

/// Throws std::invalid_argument when a slice has no positive rows, and
/// xgboost_error on library failures.
training_result train_model(const pipeline::feature_table& table,
                            const training_options& options,
                            const progress_callback& progress = {});

/// Evaluates probabilities against labels of rows [begin, end) of `table`.
evaluation evaluate_slice(const std::vector<float>& probabilities,
                          const pipeline::feature_table& table, std::size_t begin,
                          std::size_t end, double threshold);

} // namespace vigil::models
