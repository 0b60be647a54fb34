#pragma once
// Prequential evaluation (`vigil evaluate`): train on a window, leave the
// label delay, test on the window after it, and repeat backwards in time.
// The model is what `vigil train` would fit on the training window with
// the labels known when the test window starts; plain XGBoost on the same
// rows is scored beside it.

#include "models/evaluation/daily_precision.h"
#include "models/training/model_trainer.h"
#include "pipeline/features/labelled_replay.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vigil::models {

struct prequential_options {
  std::int64_t train_ms = 7 * 86'400'000LL;
  std::int64_t delay_ms = 7 * 86'400'000LL;  ///< between training and test windows
  std::int64_t test_ms = 7 * 86'400'000LL;
  int folds = 3;        ///< the newest test window first, each one test window earlier
  std::size_t k = 100;  ///< reviews a day, for precision@k and card precision@k
  training_options training;
};

struct window_metrics {
  double roc_auc = 0, average_precision = 0;
  double precision_at_k = 0, card_precision_at_k = 0;  ///< means over the test days
  std::vector<day_precision> days;
};

struct fold_result {
  std::int64_t train_begin_ms = 0, train_end_ms = 0, test_begin_ms = 0, test_end_ms = 0;
  std::size_t train_rows = 0;            ///< labelled by the test window's start
  std::size_t train_labels_unknown = 0;  ///< in the window, label known later: left out
  std::size_t test_rows = 0;
  std::int64_t test_positives = 0;
  window_metrics model, baseline;
  hyperparameters chosen;
  std::string error;  ///< why the fold was not evaluated ("" = it was)
};

struct prequential_result {
  prequential_options options;
  std::vector<fold_result> folds;
  /// Means over evaluated folds.
  window_metrics model_mean, baseline_mean;
  std::size_t evaluated_folds = 0;
};

/// Evaluates on `table` (rows in event-time order, with label times and
/// cards). The newest test window ends at the UTC midnight after the last
/// row. Folds whose training window starts before the data are not made; a
/// fold that cannot be trained (no fraud known in time) carries its error.
prequential_result evaluate_prequential(const pipeline::feature_table& table, const prequential_options& options,
                                        const progress_callback& progress = {});

nlohmann::json to_json(const prequential_result& r);
/// Per fold, average precision and card precision@k of the model and the
/// plain baseline side by side.
std::string prequential_svg(const prequential_result& r);

} // namespace vigil::models
