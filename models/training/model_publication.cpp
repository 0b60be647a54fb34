#include "models/training/model_publication.h"

#include "models/drift/distribution_profile.h"
#include "models/serving/scoring_model.h"
#include "models/training/training_report.h"
#include "pipeline/features/recent_set.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <cstdio>

namespace vigil::models {
namespace {

std::vector<float> sample_rows(const pipeline::feature_table& t, std::size_t from) {
  std::vector<float> rows;
  std::size_t available = t.rows() - from;
  std::size_t n = std::min(equality_sample_rows, available);
  for (std::size_t k = 0; k < n; ++k) {
    const float* r = t.row(from + k * available / n);
    rows.insert(rows.end(), r, r + pipeline::feature_count);
  }
  return rows;
}

// What the model was trained on, for drift: every feature and the model's
// own score over the training slice, binned at their quantiles.
reference_profile training_profile(const scoring_model& model, const pipeline::feature_table& t,
                                   std::size_t rows) {
  std::vector<double> scores(rows);
  model.forest.predict_batch(t.values.data(), rows, scores.data());
  const auto& names = pipeline::feature_names();
  std::vector<float> labels(t.labels.begin(), t.labels.begin() + static_cast<std::ptrdiff_t>(rows));
  return build_reference_profile({names.begin(), names.end()}, t.values.data(), rows, scores, labels);
}

} // namespace

int register_trained_model(model_registry& registry, const training_result& result,
                           const pipeline::feature_table& table) {
  auto report = report_json(result);
  auto data_hash = pipeline::stable_hash(reinterpret_cast<const char*>(table.values.data()),
                                         table.values.size() * sizeof(float));
  char hash_text[17];
  std::snprintf(hash_text, sizeof hash_text, "%016llx", static_cast<unsigned long long>(data_hash));
  nlohmann::json metadata{{"feature_schema_hash", pipeline::feature_schema_hash()},
                          {"data_hash", hash_text},
                          {"threshold", result.threshold},
                          {"params", report["best_params"]},
                          {"metrics", report["test"]},
                          {"validation_pr_auc", result.validation_pr_auc},
                          {"training_window", report["split"]}};
  int version = registry.add(result.model_json, metadata);
  // Sample rows come from the test slice: unseen rows, realistic values.
  store_sample_rows(registry, version, sample_rows(table, result.split.validation_end));
  auto dir = registry.version_dir(version);
  write_file_atomically(dir / "report.json", report.dump(2));
  write_file_atomically(dir / "pr_curve.svg", pr_curve_svg(result.test));
  write_file_atomically(dir / "confusion.svg", confusion_svg(result.test.confusion, result.threshold));
  auto model = load_scoring_model(registry, version);
  write_file_atomically(dir / "reference_profile.json",
                        to_json(training_profile(*model, table, result.split.train_end)).dump());
  return version;
}

int ensure_production_model(model_registry& registry, std::int64_t transactions,
                            const progress_callback& progress) {
  if (auto production = registry.production())
    return production->version;
  if (progress)
    progress("no production model: training a bootstrap model on " +
             std::to_string(transactions) + " simulated transactions");
  pipeline::simulator_options so;
  so.seed = 1000;
  so.expected_count = transactions;
  pipeline::transaction_simulator sim{so};
  std::vector<pipeline::labelled_transaction> stream;
  stream.reserve(static_cast<std::size_t>(transactions));
  for (std::int64_t i = 0; i < transactions; ++i)
    stream.push_back(sim.next());
  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(stream), store);
  training_options o;
  o.trials = 2;
  o.max_rounds = 200;
  auto result = train_model(table, o, progress);
  int version = register_trained_model(registry, result, table);
  registry.set_stage(version, model_stage::production);
  return version;
}

} // namespace vigil::models
