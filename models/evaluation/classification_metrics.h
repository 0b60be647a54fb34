#pragma once
// Ranking and threshold metrics for a binary classifier. Scores are
// probabilities; a score >= threshold is a positive decision.

#include <cstdint>
#include <vector>

namespace vigil::models {

struct confusion_matrix {
  std::int64_t true_positive = 0, false_positive = 0;
  std::int64_t true_negative = 0, false_negative = 0;
  double precision() const;  ///< 0 when nothing is flagged
  double recall() const;     ///< 0 when there are no positives
  double f_beta(double beta) const;
};

struct pr_point {
  double threshold, precision, recall;
};

/// Area under the precision-recall curve as average precision (the step-wise
/// sum used by scikit-learn). Ties in score are taken as one step.
double pr_auc(const std::vector<float>& scores, const std::vector<float>& labels);

/// Area under the ROC curve (probability a positive outranks a negative,
/// ties counted half).
double roc_auc(const std::vector<float>& scores, const std::vector<float>& labels);

confusion_matrix confusion_at(const std::vector<float>& scores,
                              const std::vector<float>& labels, double threshold);

/// The threshold (one of the scores) that maximises F-beta, with its matrix.
struct threshold_choice {
  double threshold = 0.5;
  double f_beta = 0;
  confusion_matrix confusion;
};
threshold_choice best_f_beta_threshold(const std::vector<float>& scores,
                                       const std::vector<float>& labels,
                                       double beta);

/// The PR curve thinned to at most `max_points` points, by falling threshold.
std::vector<pr_point> pr_curve(const std::vector<float>& scores,
                               const std::vector<float>& labels,
                               std::size_t max_points = 200);

} // namespace vigil::models
