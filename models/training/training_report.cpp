#include "models/training/training_report.h"

#include "pipeline/schema/transaction_json.h"

#include <cstdio>
#include <sstream>

namespace vigil::models {
using json = nlohmann::json;

namespace {

json params_json(const hyperparameters& p) {
  return {{"max_depth", p.max_depth}, {"eta", p.eta}, {"subsample", p.subsample},
          {"colsample_bytree", p.colsample_bytree},
          {"min_child_weight", p.min_child_weight}, {"class_weighted", p.class_weighted},
          {"rounds", p.rounds}};
}

} // namespace

json evaluation_json(const evaluation& e) {
  json patterns = json::object();
  for (const auto& [name, hits] : e.pattern_hits)
    patterns[name] = {{"caught", hits.first}, {"total", hits.second},
                      {"recall", hits.second ? double(hits.first) / hits.second : 0.0}};
  const auto& c = e.confusion;
  return {{"rows", e.rows}, {"positives", e.positives},
          {"pr_auc", e.pr_auc}, {"roc_auc", e.roc_auc}, {"threshold", e.threshold},
          {"precision", c.precision()}, {"recall", c.recall()}, {"f2", c.f_beta(2)},
          {"confusion", {{"tp", c.true_positive}, {"fp", c.false_positive},
                         {"tn", c.true_negative}, {"fn", c.false_negative}}},
          {"per_pattern_recall", patterns}};
}

json report_json(const training_result& r) {
  json trials = json::array();
  for (const auto& t : r.trials)
    trials.push_back({{"params", params_json(t.params)},
                      {"validation_pr_auc", t.validation_pr_auc}, {"seconds", t.seconds}});
  using pipeline::format_iso8601_ms;
  return {{"best_params", params_json(r.best)},
          {"validation_pr_auc", r.validation_pr_auc},
          {"threshold", r.threshold},
          {"threshold_rule", "max F2 on the validation slice"},
          {"scale_pos_weight", r.scale_pos_weight},
          {"test", evaluation_json(r.test)},
          {"baseline", {{"what", "XGBoost's default parameters, 100 rounds, no class weight, same rows"},
                        {"params", params_json(r.baseline.params)},
                        {"validation_pr_auc", r.baseline.validation_pr_auc},
                        {"test", evaluation_json(r.baseline.test)},
                        {"chosen", r.baseline_chosen}}},
          {"trials", trials},
          {"split", {{"train_rows", r.split.train_end - r.train_labels_unknown},
                     {"train_rows_label_unknown_at_fit", r.train_labels_unknown},
                     {"validation_rows", r.split.validation_end - r.split.validation_begin -
                                           r.validation_labels_unknown},
                     {"validation_rows_label_unknown_at_selection", r.validation_labels_unknown},
                     {"test_rows", r.split.rows - r.split.test_begin},
                     {"gap_rows", (r.split.validation_begin - r.split.train_end) +
                                    (r.split.test_begin - r.split.validation_end)},
                     {"gap_hours", double(r.split.gap_ms) / 3'600'000.0},
                     {"train_window", {format_iso8601_ms(r.train_start_ms), format_iso8601_ms(r.train_end_ms)}},
                     {"fitted_at", format_iso8601_ms(r.split.fit_time_ms)},
                     {"validation_end", format_iso8601_ms(r.validation_end_ms)},
                     {"selected_at", format_iso8601_ms(r.split.selection_time_ms)},
                     {"test_end", format_iso8601_ms(r.test_end_ms)}}},
          {"seconds", r.seconds}};
}

std::string pr_curve_svg(const evaluation& e) {
  constexpr double w = 480, h = 360, pad = 50;
  auto x = [&](double recall) { return pad + recall * (w - 2 * pad); };
  auto y = [&](double precision) { return h - pad - precision * (h - 2 * pad); };
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
    << "' font-family='sans-serif' font-size='12'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<line x1='" << pad << "' y1='" << h - pad << "' x2='" << w - pad << "' y2='" << h - pad << "' stroke='black'/>\n"
    << "<line x1='" << pad << "' y1='" << pad << "' x2='" << pad << "' y2='" << h - pad << "' stroke='black'/>\n"
    << "<text x='" << w / 2 << "' y='" << h - 15 << "' text-anchor='middle'>recall</text>\n"
    << "<text x='15' y='" << h / 2 << "' transform='rotate(-90 15 " << h / 2 << ")' text-anchor='middle'>precision</text>\n";
  char title[120];
  std::snprintf(title, sizeof title, "Test PR curve (PR-AUC %.3f, %lld rows)", e.pr_auc,
                static_cast<long long>(e.rows));
  s << "<text x='" << w / 2 << "' y='25' text-anchor='middle'>" << title << "</text>\n";
  for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    s << "<text x='" << x(t) << "' y='" << h - pad + 15 << "' text-anchor='middle'>" << t << "</text>\n"
      << "<text x='" << pad - 5 << "' y='" << y(t) + 4 << "' text-anchor='end'>" << t << "</text>\n";
  }
  s << "<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='";
  for (const auto& p : e.curve)
    s << x(p.recall) << ',' << y(p.precision) << ' ';
  s << "'/>\n";
  const auto& c = e.confusion;
  s << "<circle cx='" << x(c.recall()) << "' cy='" << y(c.precision())
    << "' r='5' fill='#d62728'/>\n<text x='" << x(c.recall()) + 8 << "' y='"
    << y(c.precision()) - 8 << "'>threshold " << e.threshold << "</text>\n</svg>\n";
  return s.str();
}

std::string confusion_svg(const confusion_matrix& c, double threshold) {
  const long long cells[2][2] = {{c.true_negative, c.false_positive},
                                 {c.false_negative, c.true_positive}};
  long long max_cell = 1;
  for (auto& row : cells)
    for (auto v : row)
      max_cell = std::max(max_cell, v);
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='360' height='320' font-family='sans-serif' font-size='13'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='180' y='22' text-anchor='middle'>Confusion matrix at threshold " << threshold << "</text>\n"
    << "<text x='190' y='305' text-anchor='middle'>predicted (legit | fraud)</text>\n"
    << "<text x='18' y='170' transform='rotate(-90 18 170)' text-anchor='middle'>actual (legit | fraud)</text>\n";
  for (int r = 0; r < 2; ++r) {
    for (int col = 0; col < 2; ++col) {
      double shade = 0.15 + 0.85 * double(cells[r][col]) / max_cell;
      int tone = static_cast<int>(255 - shade * 180);
      s << "<rect x='" << 50 + col * 130 << "' y='" << 40 + r * 120
        << "' width='128' height='118' fill='rgb(" << tone << ',' << tone << ",255)'/>\n"
        << "<text x='" << 114 + col * 130 << "' y='" << 104 + r * 120
        << "' text-anchor='middle' font-size='18'>" << cells[r][col] << "</text>\n";
    }
  }
  s << "</svg>\n";
  return s.str();
}

} // namespace vigil::models
