#include "models/training/champion_challenger.h"

#include <cstdio>
#include <stdexcept>

namespace vigil::models {
namespace {

std::vector<float> score_rows(const forest_evaluator& f, const pipeline::feature_table& t,
                              std::size_t begin) {
  std::vector<double> p(t.rows() - begin);
  f.predict_batch(t.row(begin), p.size(), p.data());
  return {p.begin(), p.end()};
}

} // namespace

challenge_result challenge(const pipeline::feature_table& rows, const forest_evaluator* champion,
                           const training_options& options, double recent_fraction,
                           double margin) {
  challenge_result r;
  auto cut = static_cast<std::size_t>(rows.rows() * (1.0 - recent_fraction));
  while (cut > 0 && cut < rows.rows() && rows.event_times_ms[cut] == rows.event_times_ms[cut - 1])
    ++cut;
  std::vector<float> recent_labels(rows.labels.begin() + static_cast<std::ptrdiff_t>(cut), rows.labels.end());
  r.recent_rows = recent_labels.size();
  for (float l : recent_labels)
    r.recent_positives += l > 0.5f ? 1 : 0;
  if (r.recent_positives == 0)
    throw std::invalid_argument("the recent labelled slice has no fraud label to evaluate on");
  r.training_rows = rows.first(cut);
  r.challenger = train_model(r.training_rows, options);
  std::string error;
  auto challenger = forest_evaluator::from_xgboost_json(r.challenger.model_json, &error);
  if (!challenger)
    throw std::runtime_error("challenger model unreadable: " + error);
  r.challenger_pr_auc = pr_auc(score_rows(*challenger, rows, cut), recent_labels);
  r.champion_pr_auc = champion ? pr_auc(score_rows(*champion, rows, cut), recent_labels) : 0.0;
  r.promote = r.challenger_pr_auc > r.champion_pr_auc + margin;
  char text[160];
  std::snprintf(text, sizeof text, "challenger PR-AUC %.4f vs champion %.4f on %zu recent rows (margin %.4f)",
                r.challenger_pr_auc, r.champion_pr_auc, r.recent_rows, margin);
  r.reason = text;
  return r;
}

} // namespace vigil::models
