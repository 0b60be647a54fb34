#include "models/evaluation/prequential_evaluation.h"

#include "models/evaluation/classification_metrics.h"
#include "models/forest_evaluator.h"
#include "pipeline/schema/transaction_json.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace vigil::models {
namespace {

/// The rows of `table` listed, as a table of their own. Without label
/// times: every label in it counts as known (they were chosen so).
pipeline::feature_table rows_of(const pipeline::feature_table& t, const std::vector<std::size_t>& rows) {
  auto out = t.select(rows);
  out.label_times_ms.clear();
  return out;
}

window_metrics measure(const std::string& model_json, const pipeline::feature_table& test, std::size_t k) {
  std::string error;
  auto forest = forest_evaluator::from_xgboost_json(model_json, &error);
  if (!forest)
    throw std::runtime_error("trained model unreadable: " + error);
  std::vector<double> p(test.rows());
  forest->predict_batch(test.values.data(), test.rows(), p.data());
  std::vector<float> scores(p.begin(), p.end());
  std::vector<scored_row> rows(test.rows());
  for (std::size_t i = 0; i < test.rows(); ++i)
    rows[i] = {test.event_times_ms[i], test.user_ids[i], scores[i], test.labels[i] > 0.5f};
  window_metrics m;
  m.roc_auc = roc_auc(scores, test.labels);
  m.average_precision = pr_auc(scores, test.labels);
  m.days = daily_precision_at_k(rows, k);
  m.precision_at_k = mean_precision_at_k(m.days);
  m.card_precision_at_k = mean_card_precision_at_k(m.days);
  return m;
}

void add_to_mean(window_metrics& mean, const window_metrics& m) {
  mean.roc_auc += m.roc_auc;
  mean.average_precision += m.average_precision;
  mean.precision_at_k += m.precision_at_k;
  mean.card_precision_at_k += m.card_precision_at_k;
}

void divide(window_metrics& mean, std::size_t n) {
  if (n == 0)
    return;
  mean.roc_auc /= double(n);
  mean.average_precision /= double(n);
  mean.precision_at_k /= double(n);
  mean.card_precision_at_k /= double(n);
}

} // namespace

prequential_result evaluate_prequential(const pipeline::feature_table& table, const prequential_options& o,
                                        const progress_callback& progress) {
  if (o.train_ms <= 0 || o.test_ms <= 0 || o.delay_ms < 0 || o.folds < 1 || o.k < 1)
    throw std::invalid_argument("windows must be positive, the delay not negative, folds and k at least 1");
  if (table.label_times_ms.size() != table.rows() || table.user_ids.size() != table.rows())
    throw std::invalid_argument("the table needs label times and cards");
  prequential_result result;
  result.options = o;
  if (table.rows() == 0)
    return result;
  const auto& times = table.event_times_ms;
  // Windows end at the UTC midnight after the last transaction, so whole-day
  // windows hold whole UTC days (the per-day measures count whole days).
  constexpr std::int64_t day = 86'400'000;
  const std::int64_t first = times.front();
  const std::int64_t last_day = times.back() >= 0 ? times.back() / day : (times.back() - day + 1) / day;
  const std::int64_t end_of_data = (last_day + 1) * day;
  for (int f = 0; f < o.folds; ++f) {
    fold_result fold;
    fold.test_end_ms = end_of_data - f * o.test_ms;
    fold.test_begin_ms = fold.test_end_ms - o.test_ms;
    fold.train_end_ms = fold.test_begin_ms - o.delay_ms;
    fold.train_begin_ms = fold.train_end_ms - o.train_ms;
    if (fold.train_begin_ms < first)
      break;  // not enough history for this fold
    std::vector<std::size_t> train_rows, test_rows;
    for (std::size_t i = 0; i < table.rows(); ++i) {
      if (times[i] >= fold.train_begin_ms && times[i] < fold.train_end_ms) {
        if (table.label_times_ms[i] <= fold.test_begin_ms)
          train_rows.push_back(i);
        else
          ++fold.train_labels_unknown;
      } else if (times[i] >= fold.test_begin_ms && times[i] < fold.test_end_ms) {
        test_rows.push_back(i);
      }
    }
    fold.train_rows = train_rows.size();
    fold.test_rows = test_rows.size();
    auto test = rows_of(table, test_rows);
    for (float l : test.labels)
      fold.test_positives += l > 0.5f ? 1 : 0;
    if (progress)
      progress("fold " + std::to_string(f + 1) + "/" + std::to_string(o.folds) + ": training on " +
               std::to_string(fold.train_rows) + " rows, testing on " + std::to_string(fold.test_rows));
    try {
      if (fold.test_positives == 0)
        throw std::invalid_argument("the test window has no fraud");
      // Every label in the training table is known by the test window: the
      // trainer's own split (for early stopping and the threshold) needs no gap.
      auto o_fit = o.training;
      o_fit.gap_ms = 0;
      auto trained = train_model(rows_of(table, train_rows), o_fit);
      fold.chosen = trained.best;
      fold.model = measure(trained.model_json, test, o.k);
      fold.baseline = measure(trained.baseline.model_json, test, o.k);
      add_to_mean(result.model_mean, fold.model);
      add_to_mean(result.baseline_mean, fold.baseline);
      ++result.evaluated_folds;
    } catch (const std::exception& e) {
      fold.error = e.what();
    }
    result.folds.push_back(std::move(fold));
  }
  divide(result.model_mean, result.evaluated_folds);
  divide(result.baseline_mean, result.evaluated_folds);
  return result;
}

namespace {

nlohmann::json metrics_json(const window_metrics& m) {
  nlohmann::json days = nlohmann::json::array();
  for (const auto& d : m.days)
    days.push_back({{"day", pipeline::format_iso8601_ms(d.day_start_ms).substr(0, 10)},
                    {"transactions", d.transactions},
                    {"precision_at_k", d.precision_at_k},
                    {"card_precision_at_k", d.card_precision_at_k}});
  return {{"roc_auc", m.roc_auc},
          {"average_precision", m.average_precision},
          {"precision_at_k", m.precision_at_k},
          {"card_precision_at_k", m.card_precision_at_k},
          {"days", days}};
}

} // namespace

nlohmann::json to_json(const prequential_result& r) {
  using pipeline::format_iso8601_ms;
  constexpr double day = 86'400'000.0;
  nlohmann::json folds = nlohmann::json::array();
  for (const auto& f : r.folds) {
    nlohmann::json fold = {{"train_window", {format_iso8601_ms(f.train_begin_ms), format_iso8601_ms(f.train_end_ms)}},
                           {"test_window", {format_iso8601_ms(f.test_begin_ms), format_iso8601_ms(f.test_end_ms)}},
                           {"train_rows", f.train_rows},
                           {"train_rows_label_unknown", f.train_labels_unknown},
                           {"test_rows", f.test_rows},
                           {"test_positives", f.test_positives}};
    if (!f.error.empty()) {
      fold["error"] = f.error;
    } else {
      fold["model"] = metrics_json(f.model);
      fold["baseline"] = metrics_json(f.baseline);
    }
    folds.push_back(std::move(fold));
  }
  auto mean = [](const window_metrics& m) {
    return nlohmann::json{{"roc_auc", m.roc_auc},
                          {"average_precision", m.average_precision},
                          {"precision_at_k", m.precision_at_k},
                          {"card_precision_at_k", m.card_precision_at_k}};
  };
  return {{"protocol", {{"train_days", r.options.train_ms / day},
                        {"delay_days", r.options.delay_ms / day},
                        {"test_days", r.options.test_ms / day},
                        {"folds_asked", r.options.folds},
                        {"k", r.options.k},
                        {"training_labels", "known by the start of the test window"},
                        {"baseline", "XGBoost's default parameters, 100 rounds, same training rows"}}},
          {"evaluated_folds", r.evaluated_folds},
          {"mean", {{"model", mean(r.model_mean)}, {"baseline", mean(r.baseline_mean)}}},
          {"folds", folds}};
}

std::string prequential_svg(const prequential_result& r) {
  // Two panels (average precision, card precision@k), one group of two bars
  // (model, baseline) per evaluated fold, the newest fold on the right.
  std::vector<const fold_result*> shown;
  for (auto it = r.folds.rbegin(); it != r.folds.rend(); ++it)
    if (it->error.empty())
      shown.push_back(&*it);
  const double panel_w = 360, h = 300, pad = 45, group = shown.empty() ? 1 : (panel_w - 2 * pad) / shown.size();
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << 2 * panel_w << "' height='" << h
    << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
  const char* titles[] = {"average precision", "card precision@k"};
  for (int panel = 0; panel < 2; ++panel) {
    double x0 = panel * panel_w;
    s << "<text x='" << x0 + panel_w / 2 << "' y='20' text-anchor='middle'>" << titles[panel] << " per fold</text>\n"
      << "<line x1='" << x0 + pad << "' y1='" << h - pad << "' x2='" << x0 + panel_w - pad << "' y2='" << h - pad
      << "' stroke='black'/>\n";
    for (double t : {0.0, 0.5, 1.0})
      s << "<text x='" << x0 + pad - 5 << "' y='" << h - pad - t * (h - 2 * pad) + 4 << "' text-anchor='end'>" << t
        << "</text>\n";
    for (std::size_t i = 0; i < shown.size(); ++i) {
      double values[] = {panel == 0 ? shown[i]->model.average_precision : shown[i]->model.card_precision_at_k,
                         panel == 0 ? shown[i]->baseline.average_precision : shown[i]->baseline.card_precision_at_k};
      const char* colours[] = {"#1f77b4", "#aaaaaa"};
      for (int b = 0; b < 2; ++b) {
        double bar_h = std::clamp(values[b], 0.0, 1.0) * (h - 2 * pad);
        double x = x0 + pad + i * group + group * (0.15 + 0.35 * b);
        char v[16];
        std::snprintf(v, sizeof v, "%.3f", values[b]);
        s << "<rect x='" << x << "' y='" << h - pad - bar_h << "' width='" << group * 0.3 << "' height='" << bar_h
          << "' fill='" << colours[b] << "'><title>" << (b ? "plain XGBoost " : "Vigil ") << v << "</title></rect>\n";
      }
      s << "<text x='" << x0 + pad + (i + 0.5) * group << "' y='" << h - pad + 15 << "' text-anchor='middle'>"
        << pipeline::format_iso8601_ms(shown[i]->test_begin_ms).substr(5, 5) << "</text>\n";
    }
  }
  s << "<text x='" << pad << "' y='" << h - 8 << "'>blue: Vigil's trained model; grey: plain XGBoost, same rows; "
    << "labels: test window start (MM-DD)</text>\n</svg>\n";
  return s.str();
}

} // namespace vigil::models
