#pragma once
// A registry model made ready to serve: the flattened forest, checked equal
// to XGBoost on the rows stored with it, plus what decisions need.

#include "models/drift/distribution_profile.h"
#include "models/forest_evaluator.h"
#include "models/registry/model_registry.h"
#include "pipeline/features/feature_schema.h"

#include <memory>
#include <string>
#include <vector>

namespace vigil::models {

/// One reason behind a score: a feature and its contribution (log-odds).
struct decision_reason {
  std::string feature;
  float value = 0;          ///< the feature's value, NaN when missing
  double contribution = 0;  ///< exact TreeSHAP value in margin space
};

struct scoring_model {
  int version = 0;
  std::string stage;
  double threshold = 0.5;  ///< the F2 threshold chosen at training
  forest_evaluator forest;
  /// What the model was trained on, for drift; null for a model registered
  /// without one (or with one that cannot be read: `reference_problem` says why).
  std::shared_ptr<const reference_profile> reference;
  std::string reference_problem;

  /// The `k` features pushing the score up the most (positive contributions).
  std::vector<decision_reason> top_reasons(const pipeline::feature_vector& row,
                                           std::size_t k = 3) const;
};

/// Rows stored beside a model to check the evaluator at every load.
constexpr std::size_t equality_sample_rows = 512;
/// Largest |p_forest - p_xgboost| accepted at load.
constexpr double equality_tolerance = 1e-6;

/// Loads `version`: parses the forest, checks the feature-schema hash and
/// equality with XGBoost on the stored sample rows, and reads the reference
/// profile when there is one. Throws registry_error naming the failed check.
std::shared_ptr<const scoring_model> load_scoring_model(const model_registry& registry,
                                                        int version);

/// The sample rows file written beside a model at registration.
void store_sample_rows(const model_registry& registry, int version,
                       const std::vector<float>& rows);

} // namespace vigil::models
