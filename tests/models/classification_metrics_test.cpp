#include "models/evaluation/classification_metrics.h"

#include <catch2/catch.hpp>

using namespace vigil::models;

TEST_CASE("PR-AUC and ROC-AUC match hand-computed values", "[unit][metrics]") {
  // Ranked: 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg).
  std::vector<float> scores{0.9f, 0.8f, 0.7f, 0.1f}, labels{1, 0, 1, 0};
  // AP = 0.5 * 1 + 0.5 * (2/3)
  CHECK(pr_auc(scores, labels) == Approx(0.5 + 1.0 / 3));
  // Positive-negative pairs ranked right: (0.9>0.8),(0.9>0.1),(0.7>0.1) of 4.
  CHECK(roc_auc(scores, labels) == Approx(0.75));
  CHECK(pr_auc({0.9f, 0.1f}, {1, 0}) == Approx(1.0));
  CHECK(roc_auc({0.5f, 0.5f}, {1, 0}) == Approx(0.5));  // ties count half
}

TEST_CASE("confusion matrix counts decisions at a threshold", "[unit][metrics]") {
  auto c = confusion_at({0.9f, 0.8f, 0.7f, 0.1f}, {1, 0, 1, 0}, 0.75);
  CHECK(c.true_positive == 1);
  CHECK(c.false_positive == 1);
  CHECK(c.false_negative == 1);
  CHECK(c.true_negative == 1);
  CHECK(c.precision() == Approx(0.5));
  CHECK(c.recall() == Approx(0.5));
  CHECK(c.f_beta(2) == Approx(0.5));
}

TEST_CASE("the F2 threshold favours recall over precision", "[unit][metrics]") {
  // At 0.7 recall is 1 with precision 2/3: F2 = 5*(2/3)/(4*(2/3)+1) = 0.909;
  // at 0.9 recall 0.5 precision 1: F2 = 5*0.5/(4+0.5) = 0.556.
  auto choice = best_f_beta_threshold({0.9f, 0.8f, 0.7f, 0.1f}, {1, 0, 1, 0}, 2.0);
  CHECK(choice.threshold == Approx(0.7));
  CHECK(choice.f_beta == Approx(10.0 / 11));
  CHECK(choice.confusion.true_positive == 2);
}

TEST_CASE("the PR curve is thinned to the requested number of points", "[unit][metrics]") {
  std::vector<float> scores, labels;
  for (int i = 0; i < 1000; ++i) {
    scores.push_back(i / 1000.0f);
    labels.push_back(i % 3 == 0 ? 1.0f : 0.0f);
  }
  auto curve = pr_curve(scores, labels, 50);
  CHECK(curve.size() == 50);
  CHECK(curve.front().threshold > curve.back().threshold);
  CHECK(curve.back().recall == Approx(1.0));
}
