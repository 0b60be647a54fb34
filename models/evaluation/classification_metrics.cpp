#include "models/evaluation/classification_metrics.h"

#include <algorithm>
#include <numeric>

namespace vigil::models {
namespace {

std::vector<std::size_t> order_by_score_desc(const std::vector<float>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

// Walks distinct thresholds from high to low, calling f(threshold, tp, fp)
// after each group of tied scores.
template <class F>
std::int64_t walk_thresholds(const std::vector<float>& scores,
                             const std::vector<float>& labels, F f) {
  auto order = order_by_score_desc(scores);
  std::int64_t tp = 0, fp = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (labels[order[i]] > 0.5f) ++tp; else ++fp;
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]])
      f(scores[order[i]], tp, fp);
  }
  return tp;
}

std::int64_t positives(const std::vector<float>& labels) {
  return std::count_if(labels.begin(), labels.end(), [](float l) { return l > 0.5f; });
}

} // namespace

double confusion_matrix::precision() const {
  auto flagged = true_positive + false_positive;
  return flagged ? double(true_positive) / flagged : 0.0;
}

double confusion_matrix::recall() const {
  auto pos = true_positive + false_negative;
  return pos ? double(true_positive) / pos : 0.0;
}

double confusion_matrix::f_beta(double beta) const {
  double p = precision(), r = recall(), b2 = beta * beta;
  return (p + r) > 0 ? (1 + b2) * p * r / (b2 * p + r) : 0.0;
}

double pr_auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  std::int64_t total_pos = positives(labels);
  if (total_pos == 0)
    return 0.0;
  double ap = 0, last_recall = 0;
  walk_thresholds(scores, labels, [&](double, std::int64_t tp, std::int64_t fp) {
    double recall = double(tp) / total_pos;
    ap += (recall - last_recall) * (double(tp) / (tp + fp));
    last_recall = recall;
  });
  return ap;
}

double roc_auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  std::int64_t pos = positives(labels);
  std::int64_t neg = static_cast<std::int64_t>(labels.size()) - pos;
  if (pos == 0 || neg == 0)
    return 0.5;
  double area = 0;
  std::int64_t last_tp = 0, last_fp = 0;
  walk_thresholds(scores, labels, [&](double, std::int64_t tp, std::int64_t fp) {
    area += double(fp - last_fp) * (last_tp + tp) / 2.0;  // trapezoid
    last_tp = tp;
    last_fp = fp;
  });
  return area / (double(pos) * neg);
}

confusion_matrix confusion_at(const std::vector<float>& scores,
                              const std::vector<float>& labels, double threshold) {
  confusion_matrix c;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    bool flagged = scores[i] >= threshold, fraud = labels[i] > 0.5f;
    if (flagged && fraud) ++c.true_positive;
    else if (flagged) ++c.false_positive;
    else if (fraud) ++c.false_negative;
    else ++c.true_negative;
  }
  return c;
}

threshold_choice best_f_beta_threshold(const std::vector<float>& scores,
                                       const std::vector<float>& labels, double beta) {
  std::int64_t total_pos = positives(labels);
  std::int64_t total_neg = static_cast<std::int64_t>(labels.size()) - total_pos;
  threshold_choice best;
  best.f_beta = -1;
  walk_thresholds(scores, labels, [&](double threshold, std::int64_t tp, std::int64_t fp) {
    confusion_matrix c{tp, fp, total_neg - fp, total_pos - tp};
    double f = c.f_beta(beta);
    if (f > best.f_beta)
      best = {threshold, f, c};
  });
  if (best.f_beta < 0)
    best = {0.5, 0, confusion_at(scores, labels, 0.5)};
  return best;
}

std::vector<pr_point> pr_curve(const std::vector<float>& scores,
                               const std::vector<float>& labels, std::size_t max_points) {
  std::int64_t total_pos = positives(labels);
  std::vector<pr_point> all;
  if (total_pos == 0)
    return all;
  walk_thresholds(scores, labels, [&](double threshold, std::int64_t tp, std::int64_t fp) {
    all.push_back({threshold, double(tp) / (tp + fp), double(tp) / total_pos});
  });
  if (all.size() <= max_points)
    return all;
  std::vector<pr_point> thinned;
  double step = double(all.size() - 1) / (max_points - 1);
  for (std::size_t k = 0; k < max_points; ++k)
    thinned.push_back(all[static_cast<std::size_t>(k * step + 0.5)]);
  return thinned;
}

} // namespace vigil::models
