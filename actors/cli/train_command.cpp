#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "models/registry/model_registry.h"
#include "models/training/model_publication.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/transaction_file.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <unistd.h>

namespace vigil::cli {
namespace {

constexpr const char* help = R"(usage: vigil train [options]
Trains a model on labelled JSON lines and registers it as a candidate.

  --in FILE             labelled transactions (default: stdin)
  --registry DIR        model registry (default: ./registry)
  --trials N            random-search trials (default 6)
  --max-rounds N        boosting rounds per trial before early stopping (default 300)
  --threads N           XGBoost threads (default 2)
  --seed N              search seed (default 7)
  --promote             promote the new model to production
Writes report.json, pr_curve.svg and confusion.svg beside the model.
)";

} // namespace

int train_command(const arguments& args) {
  command_line cl(args, {"in", "registry", "trials", "max-rounds", "threads", "seed"},
                  {"help", "promote"});
  if (cl.has("help")) {
    std::cout << help;
    return 0;
  }
  auto start = std::chrono::steady_clock::now();
  pipeline::transaction_file file;
  if (cl.has("in")) {
    std::ifstream in(cl.text("in", ""));
    if (!in)
      throw usage_error("cannot open --in file");
    file = pipeline::read_transactions(in);
  } else {
    file = pipeline::read_transactions(std::cin);
  }
  std::cerr << "read " << file.records.size() << " transactions, rejected " << file.rejected.size() << "\n";
  for (std::size_t i = 0; i < file.rejected.size() && i < 5; ++i)
    std::cerr << "  line " << file.rejected[i].line_number << ": " << file.rejected[i].reason << "\n";

  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(file.records), store);
  std::cerr << "computed features for " << table.rows() << " labelled rows\n";

  models::training_options o;
  o.trials = static_cast<int>(cl.integer("trials", o.trials));
  o.max_rounds = static_cast<int>(cl.integer("max-rounds", o.max_rounds));
  o.threads = static_cast<int>(cl.integer("threads", o.threads));
  o.seed = static_cast<std::uint64_t>(cl.integer("seed", static_cast<long long>(o.seed)));
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
  std::printf("model v%d registered in %s (%s)\n", version, registry.root().c_str(),
              cl.has("promote") ? "production" : "candidate");
  std::printf("test slice: %lld rows, %lld fraud\n", static_cast<long long>(t.rows),
              static_cast<long long>(t.positives));
  std::printf("  PR-AUC %.4f  ROC-AUC %.4f\n", t.pr_auc, t.roc_auc);
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
  std::printf("best params: depth %d eta %.3f subsample %.2f colsample %.2f min_child_weight %.0f rounds %d\n",
              result.best.max_depth, result.best.eta, result.best.subsample,
              result.best.colsample_bytree, result.best.min_child_weight, result.best.rounds);
  std::printf("wall time %.1f s (training %.1f s)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
              result.seconds);
  return 0;
}

} // namespace vigil::cli
