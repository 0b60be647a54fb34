#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "actors/cli/input_file.h"
#include "models/evaluation/prequential_evaluation.h"
#include "models/registry/model_registry.h"
#include "pipeline/schema/transaction_json.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>

namespace vigil::cli {
namespace {

constexpr const char* usage = R"(usage: vigil evaluate [options]
Prequential evaluation on a labelled file: train on a window, leave the label
delay, test on the window after it; repeated backwards in time, one test
window per fold. Each fold's model is what `vigil train` fits on its window
with the labels known when the test window starts; plain XGBoost (default
parameters) on the same rows is scored beside it.

)";

constexpr const char* help = R"(  --train-days N        training window (default 7)
  --delay-days N        between training and test windows (default 7)
  --test-days N         test window (default 7)
  --folds N             test windows, the newest first (default 3)
  --k N                 reviews a day, for precision@k and card precision@k (default 100)
  --trials N            search trials per fold (default 3)
  --max-rounds N        boosting rounds per trial (default 200)
  --out DIR             writes evaluation.json and evaluation.svg (default: ./evaluation)
Prints ROC-AUC, average precision, precision@k and card precision@k per fold
(the last two are means over the test days).
)";

std::int64_t days_option(const command_line& cl, const char* name, double fallback) {
  double days = cl.number(name, fallback);
  if (!(days >= 0 && days <= 3660))
    throw usage_error(std::string("--") + name + " must be between 0 and 3660");
  return static_cast<std::int64_t>(days * 86'400'000.0);
}

void print_row(const char* who, const models::window_metrics& m) {
  std::printf("    %-14s ROC-AUC %.4f  AP %.4f  P@k %.4f  CP@k %.4f\n", who, m.roc_auc, m.average_precision,
              m.precision_at_k, m.card_precision_at_k);
}

} // namespace

int evaluate_command(const arguments& args) {
  std::set<std::string> options{"train-days", "delay-days", "test-days", "folds", "k", "trials", "max-rounds", "out"};
  options.insert(std::begin(input_file_options), std::end(input_file_options));
  command_line cl(args, options, {"help"});
  if (cl.has("help")) {
    std::cout << usage << input_file_help << help;
    return 0;
  }
  models::prequential_options o;
  o.train_ms = days_option(cl, "train-days", 7);
  o.delay_ms = days_option(cl, "delay-days", 7);
  o.test_ms = days_option(cl, "test-days", 7);
  o.folds = static_cast<int>(cl.integer("folds", 3));
  const long long k = cl.integer("k", 100);
  if (k < 1 || k > 1'000'000)
    throw usage_error("--k must be between 1 and 1000000");
  o.k = static_cast<std::size_t>(k);
  o.training.trials = static_cast<int>(cl.integer("trials", 3));
  o.training.max_rounds = static_cast<int>(cl.integer("max-rounds", 200));
  if (o.train_ms <= 0 || o.test_ms <= 0 || o.folds < 1 || o.folds > 100 || o.training.trials < 1 ||
      o.training.max_rounds < 1)
    throw usage_error("windows must be positive; folds in [1, 100]; trials and max-rounds at least 1");
  auto file = read_input_file(cl);
  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(file.records), store);
  std::cerr << "computed features for " << table.rows() << " labelled rows\n";
  auto result = models::evaluate_prequential(table, o, [](const std::string& line) { std::cerr << line << "\n"; });
  if (result.folds.empty())
    throw usage_error("the file spans less than one training window, delay and test window");

  std::filesystem::path out = cl.text("out", "evaluation");
  std::filesystem::create_directories(out);
  models::write_file_atomically(out / "evaluation.json", models::to_json(result).dump(2));
  models::write_file_atomically(out / "evaluation.svg", models::prequential_svg(result));

  for (std::size_t f = 0; f < result.folds.size(); ++f) {
    const auto& fold = result.folds[f];
    std::printf("fold %zu: test %s .. %s, %zu rows (%lld fraud); trained on %zu rows (%zu left out: label "
                "known later)\n",
                f + 1, pipeline::format_iso8601_ms(fold.test_begin_ms).substr(0, 10).c_str(),
                pipeline::format_iso8601_ms(fold.test_end_ms - 1).substr(0, 10).c_str(), fold.test_rows,
                static_cast<long long>(fold.test_positives), fold.train_rows, fold.train_labels_unknown);
    if (!fold.error.empty()) {
      std::printf("    not evaluated: %s\n", fold.error.c_str());
      continue;
    }
    print_row("Vigil", fold.model);
    print_row("plain XGBoost", fold.baseline);
  }
  std::printf("mean over %zu folds (k = %zu):\n", result.evaluated_folds, o.k);
  print_row("Vigil", result.model_mean);
  print_row("plain XGBoost", result.baseline_mean);
  std::printf("report: %s, %s\n", (out / "evaluation.json").c_str(), (out / "evaluation.svg").c_str());
  return result.evaluated_folds > 0 ? 0 : 1;
}

} // namespace vigil::cli
