#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "actors/cli/input_file.h"
#include "models/registry/model_registry.h"
#include "models/training/model_publication.h"
#include "pipeline/features/labelled_replay.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <set>

#include <unistd.h>

namespace vigil::cli {
namespace {

constexpr const char* usage = R"(usage: vigil train [options]
Trains a model on labelled JSON lines and registers it as a candidate.
Labels reach merchant features only from their label_time on; the model is
fitted on the labels known at the end of its training window plus the gap,
and validated and tested on later transactions.

)";

constexpr const char* help = R"(  --registry DIR        model registry (default: ./registry)
  --gap-hours H         event time between training, validation and test
                        (default: the median delay of the labels)
  --trials N            random-search trials (default 6)
  --max-rounds N        boosting rounds per trial before early stopping (default 300)
  --threads N           XGBoost threads (default 2)
  --seed N              search seed (default 7)
  --promote             promote the new model to production
Writes report.json, pr_curve.svg and confusion.svg beside the model; the
report shows plain XGBoost (default parameters) on the same rows.
)";

} // namespace

int train_command(const arguments& args) {
  std::set<std::string> options{"registry", "trials", "max-rounds", "threads", "seed", "gap-hours"};
  options.insert(std::begin(input_file_options), std::end(input_file_options));
  command_line cl(args, options, {"help", "promote"});
  if (cl.has("help")) {
    std::cout << usage << input_file_help << help;
    return 0;
  }
  auto start = std::chrono::steady_clock::now();
  auto file = read_input_file(cl);

  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(file.records), store);
  std::cerr << "computed features for " << table.rows() << " labelled rows\n";

  models::training_options o;
  o.trials = static_cast<int>(cl.integer("trials", o.trials));
  o.max_rounds = static_cast<int>(cl.integer("max-rounds", o.max_rounds));
  o.threads = static_cast<int>(cl.integer("threads", o.threads));
  o.seed = static_cast<std::uint64_t>(cl.integer("seed", static_cast<long long>(o.seed)));
  if (cl.has("gap-hours")) {
    double hours = cl.number("gap-hours", 0);
    if (!(hours >= 0 && hours <= 24.0 * 3660))
      throw usage_error("--gap-hours must be between 0 and 87840");
    o.gap_ms = static_cast<std::int64_t>(hours * 3'600'000.0);
  }
  bool tty = ::isatty(STDERR_FILENO);
  auto result = models::train_model(table, o, [tty](const std::string& line) {
    std::cerr << (tty ? "\r" : "") << line << (tty ? "\033[K" : "\n") << std::flush;
  });
  if (tty)
    std::cerr << "\n";

  models::model_registry registry{cl.text("registry", "registry")};
  int version = models::register_trained_model(registry, result, table);
  if (cl.has("promote"))
    registry.set_stage(version, models::model_stage::production);

  const auto& t = result.test;
  const auto& split = result.split;
  std::printf("model v%d registered in %s (%s)\n", version, registry.root().c_str(),
              cl.has("promote") ? "production" : "candidate");
  std::printf("split: gap %.1f h; train %zu rows (%zu more not labelled by the fit time), "
              "validation %zu (%zu more not labelled by selection), test %zu\n",
              double(split.gap_ms) / 3'600'000.0, split.train_end - result.train_labels_unknown,
              result.train_labels_unknown,
              split.validation_end - split.validation_begin - result.validation_labels_unknown,
              result.validation_labels_unknown, split.rows - split.test_begin);
  std::printf("test slice: %lld rows, %lld fraud\n", static_cast<long long>(t.rows),
              static_cast<long long>(t.positives));
  std::printf("  PR-AUC %.4f  ROC-AUC %.4f\n", t.pr_auc, t.roc_auc);
  std::printf("  plain XGBoost (defaults, same rows): PR-AUC %.4f  ROC-AUC %.4f  (validation %.4f vs %.4f)%s\n",
              result.baseline.test.pr_auc, result.baseline.test.roc_auc, result.baseline.validation_pr_auc,
              result.validation_pr_auc, result.baseline_chosen ? "; chosen: the search did not beat it" : "");
  std::printf("  threshold %.4f (F2 on validation): precision %.4f recall %.4f F2 %.4f\n",
              t.threshold, t.confusion.precision(), t.confusion.recall(), t.confusion.f_beta(2));
  std::printf("  confusion: TP %lld FP %lld TN %lld FN %lld\n",
              static_cast<long long>(t.confusion.true_positive),
              static_cast<long long>(t.confusion.false_positive),
              static_cast<long long>(t.confusion.true_negative),
              static_cast<long long>(t.confusion.false_negative));
  for (const auto& [pattern, hits] : t.pattern_hits)
    std::printf("  recall %-20s %.4f (%lld/%lld)\n", pattern.c_str(),
                hits.second ? double(hits.first) / hits.second : 0.0,
                static_cast<long long>(hits.first), static_cast<long long>(hits.second));
  std::printf("best params: depth %d eta %.3f subsample %.2f colsample %.2f min_child_weight %.0f "
              "class weight %s rounds %d\n",
              result.best.max_depth, result.best.eta, result.best.subsample, result.best.colsample_bytree,
              result.best.min_child_weight, result.best.class_weighted ? "on" : "off", result.best.rounds);
  std::printf("wall time %.1f s (training %.1f s)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
              result.seconds);
  return 0;
}

} // namespace vigil::cli
