#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "actors/cli/input_file.h"
#include "models/evaluation/classification_metrics.h"
#include "models/serving/batch_scoring.h"
#include "models/serving/decision_json.h"
#include "models/serving/decision_policy.h"
#include "models/serving/scoring_model.h"
#include "models/registry/model_registry.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/schema/transaction_json.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <set>

namespace vigil::cli {
namespace {

constexpr const char* usage = R"(usage: vigil score [options]
Scores JSON-lines transactions in batch, in event-time order, with one model,
through the stream's feature code: each label reaches merchant state at its
label_time, exactly as /feedback does on a live node.

)";

constexpr const char* help = R"(  --out FILE            decisions as JSON lines (default: stdout)
  --registry DIR        model registry (default: ./registry)
  --model-version N     model version (default: the production model)
  --decline P           decline threshold (default 0.9; review = the model's threshold)
  --score-from TIME     ISO-8601: earlier transactions (and their labels) only build
                        state, as history; decisions start at TIME
  --with-features       each decision carries the feature vector it was scored with
  --from-checkpoint F   start from the state in a checkpoint file `vigil run` wrote
                        (--snapshot), then score --in: the transactions after it
When scored transactions carry labels, PR-AUC, ROC-AUC and recall go to stderr.
)";

} // namespace

int score_command(const arguments& args) {
  std::set<std::string> options{"out", "registry", "model-version", "decline", "score-from", "from-checkpoint"};
  options.insert(std::begin(input_file_options), std::end(input_file_options));
  command_line cl(args, options, {"help", "with-features"});
  if (cl.has("help")) {
    std::cout << usage << input_file_help << help;
    return 0;
  }
  const auto score_from = score_from_option(cl);
  models::model_registry registry{cl.text("registry", "registry")};
  const int version = version_or_production(cl, "model-version", registry);
  auto model = models::load_scoring_model(registry, version);
  models::decision_thresholds thresholds{model->threshold,
                                         std::max(model->threshold, cl.number("decline", 0.9))};

  auto file = read_input_file(cl);
  pipeline::sort_by_event_time(file.records);
  std::ofstream out_file;
  std::ostream* out = &output_of(cl, out_file);
  // The stream's feature, scoring and publishing code: same features, same
  // decisions, same reasons, same JSON as fraud_predictions.
  const bool with_features = cl.has("with-features");
  pipeline::feature_store store;
  if (cl.has("from-checkpoint")) {
    auto path = cl.text("from-checkpoint", "");
    if (!std::filesystem::is_regular_file(path))
      throw usage_error("--from-checkpoint: no file " + path);
    auto checkpoint = pipeline::decode_snapshot(models::read_whole_file(path));
    if (!checkpoint)
      throw usage_error("--from-checkpoint: " + path + " is not a Vigil checkpoint (or is corrupt)");
    store.users() = std::move(checkpoint->users);
    store.merchants() = std::move(checkpoint->merchants);
    std::cerr << "state from " << path << ": " << store.users().size() << " users, " << store.merchants().size()
              << " merchants\n";
  }
  pipeline::delayed_label_replay replay{store};
  std::vector<float> scores, labels;
  std::size_t scored = 0;
  for (const auto& record : file.records) {
    auto features = replay.next(record);
    if (record.tx.event_time_ms < score_from)
      continue;
    pipeline::work_batch one(1);
    one.front().tx = record.tx;
    one.front().features = features;
    auto decision = models::score_batch(one, *model, thresholds, false).front();
    *out << models::render_decision(decision, with_features) << '\n';
    ++scored;
    if (record.label) {
      scores.push_back(static_cast<float>(decision.probability));
      labels.push_back(record.label->is_fraud ? 1.0f : 0.0f);
    }
  }
  std::cerr << "scored " << scored << " transactions with model v" << version << " ("
            << file.records.size() - scored << " earlier ones as history); " << replay.labels_held()
            << " labels, each counted from its label_time on\n";
  if (!labels.empty()) {
    auto c = models::confusion_at(scores, labels, thresholds.review);
    std::cerr << "PR-AUC " << models::pr_auc(scores, labels) << ", ROC-AUC " << models::roc_auc(scores, labels)
              << ", recall at threshold " << c.recall() << ", precision " << c.precision() << "\n";
  }
  return 0;
}

} // namespace vigil::cli
