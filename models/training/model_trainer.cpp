#include "models/training/model_trainer.h"

#include "models/xgboost_handle.h"
#include "pipeline/simulator/random_source.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace vigil::models {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::vector<float> slice_labels(const pipeline::feature_table& t, std::size_t b, std::size_t e) {
  return {t.labels.begin() + static_cast<std::ptrdiff_t>(b), t.labels.begin() + static_cast<std::ptrdiff_t>(e)};
}

xgb_matrix slice_matrix(const pipeline::feature_table& t, std::size_t b, std::size_t e) {
  xgb_matrix m(t.row(b), e - b, pipeline::feature_count);
  m.set_labels(slice_labels(t, b, e));
  return m;
}

hyperparameters sample_params(pipeline::random_source& rng, int trial) {
  hyperparameters p;
  if (trial == 0)
    return p;  // the defaults are always one of the candidates
  static const int depths[] = {4, 5, 6, 7, 8};
  static const double child_weights[] = {1, 2, 5, 10};
  p.max_depth = depths[rng.integer(0, 4)];
  p.eta = std::exp(rng.uniform(std::log(0.03), std::log(0.3)));
  p.subsample = rng.uniform(0.6, 1.0);
  p.colsample_bytree = rng.uniform(0.5, 1.0);
  p.min_child_weight = child_weights[rng.integer(0, 3)];
  return p;
}

struct trial_outcome {
  xgb_booster booster;
  double best_pr_auc = -1;
  int best_rounds = 0;
};

trial_outcome run_trial(const hyperparameters& p, const training_options& o,
                        double scale_pos_weight, const xgb_matrix& train,
                        const xgb_matrix& validation,
                        const std::vector<float>& validation_labels, int trial,
                        const progress_callback& progress) {
  trial_outcome out{xgb_booster({&train, &validation})};
  auto& b = out.booster;
  b.set_param("objective", "binary:logistic");
  b.set_param("tree_method", "hist");
  b.set_param("nthread", std::to_string(o.threads));
  b.set_param("seed", std::to_string(o.seed + trial));
  b.set_param("max_depth", std::to_string(p.max_depth));
  b.set_param("eta", std::to_string(p.eta));
  b.set_param("subsample", std::to_string(p.subsample));
  b.set_param("colsample_bytree", std::to_string(p.colsample_bytree));
  b.set_param("min_child_weight", std::to_string(p.min_child_weight));
  b.set_param("scale_pos_weight", std::to_string(scale_pos_weight));
  b.set_param("eval_metric", "aucpr");
  int since_best = 0;
  for (int round = 1; round <= o.max_rounds; ++round) {
    b.update_one_iter(round - 1, train);
    if (round % o.eval_every != 0 && round != o.max_rounds)
      continue;
    double score = pr_auc(b.predict(validation, round), validation_labels);
    if (score > out.best_pr_auc) {
      out.best_pr_auc = score;
      out.best_rounds = round;
      since_best = 0;
    } else if ((since_best += o.eval_every) >= o.early_stopping_rounds) {
      break;
    }
    if (progress) {
      char line[160];
      std::snprintf(line, sizeof line,
                    "trial %d/%d round %3d  val PR-AUC %.4f  (best %.4f @ %d)",
                    trial + 1, o.trials, round, score, out.best_pr_auc, out.best_rounds);
      progress(line);
    }
  }
  return out;
}

} // namespace

evaluation evaluate_slice(const std::vector<float>& probabilities,
                          const pipeline::feature_table& table, std::size_t begin,
                          std::size_t end, double threshold) {
  evaluation e;
  auto labels = slice_labels(table, begin, end);
  e.rows = static_cast<std::int64_t>(labels.size());
  for (float l : labels)
    e.positives += l > 0.5f ? 1 : 0;
  e.pr_auc = pr_auc(probabilities, labels);
  e.roc_auc = roc_auc(probabilities, labels);
  e.threshold = threshold;
  e.confusion = confusion_at(probabilities, labels, threshold);
  e.curve = pr_curve(probabilities, labels);
  for (std::size_t i = begin; i < end; ++i) {
    const auto& pattern = table.patterns[i];
    if (pattern.empty())
      continue;
    auto& hits = e.pattern_hits[pattern];
    ++hits.second;
    hits.first += probabilities[i - begin] >= threshold ? 1 : 0;
  }
  return e;
}

training_result train_model(const pipeline::feature_table& table,
                            const training_options& o,
                            const progress_callback& progress) {
  auto start = clock_type::now();
  training_result result;
  result.split = split_by_time(table.event_times_ms, o.train_fraction, o.validation_fraction);
  const auto& s = result.split;
  auto count_pos = [&](std::size_t b, std::size_t e) {
    std::int64_t n = 0;
    for (std::size_t i = b; i < e; ++i)
      n += table.labels[i] > 0.5f ? 1 : 0;
    return n;
  };
  std::int64_t train_pos = count_pos(0, s.train_end);
  std::int64_t val_pos = count_pos(s.train_end, s.validation_end);
  if (train_pos == 0 || val_pos == 0 || count_pos(s.validation_end, s.rows) == 0)
    throw std::invalid_argument("every slice (train, validation, test) needs a positive label");
  result.scale_pos_weight = double(s.train_end - train_pos) / train_pos;
  result.train_start_ms = table.event_times_ms.front();
  result.train_end_ms = table.event_times_ms[s.train_end - 1];
  result.validation_end_ms = table.event_times_ms[s.validation_end - 1];
  result.test_end_ms = table.event_times_ms.back();

  xgb_matrix train = slice_matrix(table, 0, s.train_end);
  xgb_matrix validation = slice_matrix(table, s.train_end, s.validation_end);
  auto validation_labels = slice_labels(table, s.train_end, s.validation_end);

  pipeline::random_source rng{o.seed};
  std::optional<trial_outcome> best;
  for (int trial = 0; trial < o.trials; ++trial) {
    auto trial_start = clock_type::now();
    hyperparameters p = sample_params(rng, trial);
    auto outcome = run_trial(p, o, result.scale_pos_weight, train, validation,
                             validation_labels, trial, progress);
    p.rounds = outcome.best_rounds;
    result.trials.push_back({p, outcome.best_pr_auc, seconds_since(trial_start)});
    if (!best || outcome.best_pr_auc > best->best_pr_auc) {
      result.best = p;
      best = std::move(outcome);
    }
  }
  xgb_booster model = best->booster.slice(0, best->best_rounds);
  result.model_json = model.save_json();
  result.validation_pr_auc = best->best_pr_auc;

  // The threshold sees validation predictions only.
  auto val_scores = model.predict(validation);
  result.threshold = best_f_beta_threshold(val_scores, validation_labels, o.f_beta).threshold;

  xgb_matrix test = slice_matrix(table, s.validation_end, s.rows);
  result.test = evaluate_slice(model.predict(test), table, s.validation_end, s.rows, result.threshold);
  result.seconds = seconds_since(start);
  return result;
}

} // namespace vigil::models
