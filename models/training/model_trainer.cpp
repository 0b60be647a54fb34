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

/// Some rows of a table, as a matrix with their labels.
struct row_set {
  std::vector<float> values, labels;
  std::size_t rows() const { return labels.size(); }
  std::int64_t positives() const {
    std::int64_t n = 0;
    for (float l : labels)
      n += l > 0.5f ? 1 : 0;
    return n;
  }
  xgb_matrix matrix() const {
    xgb_matrix m(values.data(), rows(), pipeline::feature_count);
    m.set_labels(labels);
    return m;
  }
};

row_set gather(const pipeline::feature_table& t, const std::vector<std::size_t>& rows) {
  row_set out;
  out.values.reserve(rows.size() * pipeline::feature_count);
  for (auto i : rows) {
    out.values.insert(out.values.end(), t.row(i), t.row(i) + pipeline::feature_count);
    out.labels.push_back(t.labels[i]);
  }
  return out;
}

hyperparameters sample_params(pipeline::random_source& rng, int trial) {
  hyperparameters p;
  if (trial == 0)
    return p;  // the house defaults are always one of the candidates
  static const int depths[] = {4, 5, 6, 7, 8};
  static const double child_weights[] = {1, 2, 5, 10};
  p.max_depth = depths[rng.integer(0, 4)];
  p.eta = std::exp(rng.uniform(std::log(0.03), std::log(0.3)));
  p.subsample = rng.uniform(0.6, 1.0);
  p.colsample_bytree = rng.uniform(0.5, 1.0);
  p.min_child_weight = child_weights[rng.integer(0, 3)];
  // Class weighting is a choice validation makes, not a given.
  p.class_weighted = trial % 2 == 1 || rng.uniform(0.0, 1.0) < 0.5;
  return p;
}

constexpr int plain_rounds = 100;

/// The booster parameters every model Vigil trains shares, with `p`'s.
void configure(xgb_booster& b, const hyperparameters& p, const training_options& o, double scale_pos_weight,
               std::uint64_t seed) {
  b.set_param("objective", "binary:logistic");
  b.set_param("tree_method", "hist");
  b.set_param("nthread", std::to_string(o.threads));
  b.set_param("seed", std::to_string(seed));
  b.set_param("max_depth", std::to_string(p.max_depth));
  b.set_param("eta", std::to_string(p.eta));
  b.set_param("subsample", std::to_string(p.subsample));
  b.set_param("colsample_bytree", std::to_string(p.colsample_bytree));
  b.set_param("min_child_weight", std::to_string(p.min_child_weight));
  b.set_param("scale_pos_weight", std::to_string(p.class_weighted ? scale_pos_weight : 1.0));
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
  configure(b, p, o, scale_pos_weight, o.seed + trial);
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

/// Trains `p` for exactly its rounds (no early stopping).
xgb_booster train_fixed(const hyperparameters& p, const training_options& o, double scale_pos_weight,
                        const xgb_matrix& train) {
  xgb_booster b({&train});
  configure(b, p, o, scale_pos_weight, o.seed);
  for (int round = 0; round < p.rounds; ++round)
    b.update_one_iter(round, train);
  return b;
}

} // namespace

hyperparameters plain_xgboost_defaults() {
  hyperparameters p;
  p.max_depth = 6;
  p.eta = 0.3;
  p.subsample = 1.0;
  p.colsample_bytree = 1.0;
  p.min_child_weight = 1;
  p.class_weighted = false;
  p.rounds = plain_rounds;
  return p;
}

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
  const auto gap = o.gap_ms ? *o.gap_ms : median_label_delay_ms(table.event_times_ms, table.label_times_ms);
  result.split = split_by_time(table.event_times_ms, o.train_fraction, o.validation_fraction, gap);
  const auto& s = result.split;
  // A model fitted at fit_time knows only the labels known by then; it is
  // selected at selection_time, on the validation labels known by then.
  auto train_rows = rows_labelled_by(table.label_times_ms, 0, s.train_end, s.fit_time_ms);
  auto validation_rows = rows_labelled_by(table.label_times_ms, s.validation_begin, s.validation_end,
                                          s.selection_time_ms);
  result.train_labels_unknown = s.train_end - train_rows.size();
  result.validation_labels_unknown = (s.validation_end - s.validation_begin) - validation_rows.size();
  const row_set train_set = gather(table, train_rows), validation_set = gather(table, validation_rows);
  std::int64_t train_pos = train_set.positives();
  std::int64_t test_pos = 0;
  for (std::size_t i = s.test_begin; i < s.rows; ++i)
    test_pos += table.labels[i] > 0.5f ? 1 : 0;
  if (train_pos == 0 || validation_set.positives() == 0 || test_pos == 0)
    throw std::invalid_argument("every slice (train, validation, test) needs a positive label known in time");
  result.scale_pos_weight = double(train_set.rows() - train_pos) / train_pos;
  result.train_start_ms = table.event_times_ms.front();
  result.train_end_ms = table.event_times_ms[s.train_end - 1];
  result.validation_end_ms = table.event_times_ms[s.validation_end - 1];
  result.test_end_ms = table.event_times_ms.back();

  xgb_matrix train = train_set.matrix();
  xgb_matrix validation = validation_set.matrix();
  const auto& validation_labels = validation_set.labels;
  xgb_matrix test = slice_matrix(table, s.test_begin, s.rows);

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
  result.validation_pr_auc = best->best_pr_auc;

  // The baseline: plain XGBoost on the same rows. The search keeps it when
  // nothing it found does better on validation.
  auto& baseline = result.baseline;
  baseline.params = plain_xgboost_defaults();
  xgb_booster plain = train_fixed(baseline.params, o, result.scale_pos_weight, train);
  auto plain_validation = plain.predict(validation);
  baseline.validation_pr_auc = pr_auc(plain_validation, validation_labels);
  double plain_threshold = best_f_beta_threshold(plain_validation, validation_labels, o.f_beta).threshold;
  baseline.test = evaluate_slice(plain.predict(test), table, s.test_begin, s.rows, plain_threshold);
  baseline.model_json = plain.save_json();
  if (baseline.validation_pr_auc > result.validation_pr_auc) {
    result.baseline_chosen = true;
    result.best = baseline.params;
    result.validation_pr_auc = baseline.validation_pr_auc;
    model = std::move(plain);
  }
  result.model_json = model.save_json();

  // The threshold sees validation predictions only.
  auto val_scores = model.predict(validation);
  result.threshold = best_f_beta_threshold(val_scores, validation_labels, o.f_beta).threshold;
  result.test = evaluate_slice(model.predict(test), table, s.test_begin, s.rows, result.threshold);
  result.seconds = seconds_since(start);
  return result;
}

} // namespace vigil::models
