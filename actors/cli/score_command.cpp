#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "models/serving/decision_json.h"
#include "models/serving/batch_scoring.h"
#include "pipeline/stream/keyed_shards.h"
#include "models/evaluation/classification_metrics.h"
#include "models/serving/decision_policy.h"
#include "models/serving/scoring_model.h"
#include "pipeline/features/feature_store.h"
#include "pipeline/schema/transaction_file.h"

#include <algorithm>
#include <fstream>
#include <iostream>

namespace vigil::cli {
namespace {

constexpr const char* help = R"(usage: vigil score [options]
Scores JSON-lines transactions in batch, in event-time order, with one model.

  --in FILE             transactions (default: stdin)
  --out FILE            decisions as JSON lines (default: stdout)
  --registry DIR        model registry (default: ./registry)
  --model-version N     model version (default: the production model)
  --decline P           decline threshold (default 0.9; review = the model's threshold)
When the input carries labels, PR-AUC and recall are printed to stderr.
)";

} // namespace

int score_command(const arguments& args) {
  command_line cl(args, {"in", "out", "registry", "model-version", "decline"}, {"help"});
  if (cl.has("help")) {
    std::cout << help;
    return 0;
  }
  models::model_registry registry{cl.text("registry", "registry")};
  int version = static_cast<int>(cl.integer("model-version", 0));
  if (version == 0) {
    auto production = registry.production();
    if (!production)
      throw usage_error("no production model; pass --model-version");
    version = production->version;
  }
  auto model = models::load_scoring_model(registry, version);
  models::decision_thresholds thresholds{model->threshold,
                                         std::max(model->threshold, cl.number("decline", 0.9))};

  pipeline::transaction_file file;
  if (cl.has("in")) {
    std::ifstream in(cl.text("in", ""));
    if (!in)
      throw usage_error("cannot open --in file");
    file = pipeline::read_transactions(in);
  } else {
    file = pipeline::read_transactions(std::cin);
  }
  std::stable_sort(file.records.begin(), file.records.end(), [](const auto& a, const auto& b) {
    return a.tx.event_time_ms < b.tx.event_time_ms;
  });
  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (cl.has("out")) {
    out_file.open(cl.text("out", ""));
    out = &out_file;
  }
  // The stream's scoring and publishing code: same decisions, same reasons,
  // same JSON as fraud_predictions (without the feature values).
  pipeline::feature_store store;
  std::vector<float> scores, labels;
  for (const auto& record : file.records) {
    pipeline::work_batch one(1);
    one.front().tx = record.tx;
    one.front().features = store.features(record.tx, true);
    auto decision = models::score_batch(one, *model, thresholds, false).front();
    *out << models::render_decision(decision, false) << '\n';
    if (record.label) {
      scores.push_back(static_cast<float>(decision.probability));
      labels.push_back(record.label->is_fraud ? 1.0f : 0.0f);
    }
  }
  std::cerr << "scored " << file.records.size() << " transactions with model v" << version
            << ", rejected " << file.rejected.size() << " lines\n";
  if (!labels.empty()) {
    auto c = models::confusion_at(scores, labels, thresholds.review);
    std::cerr << "PR-AUC " << models::pr_auc(scores, labels) << ", recall at threshold "
              << c.recall() << ", precision " << c.precision() << "\n";
  }
  return file.rejected.empty() ? 0 : 3;
}

} // namespace vigil::cli
