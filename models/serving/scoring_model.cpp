#include "models/serving/scoring_model.h"

#include "models/xgboost_handle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vigil::models {
namespace {

std::filesystem::path sample_path(const model_registry& r, int version) {
  return r.version_dir(version) / "sample_rows.bin";
}

} // namespace

std::vector<decision_reason> scoring_model::top_reasons(const pipeline::feature_vector& row,
                                                        std::size_t k) const {
  std::vector<double> contributions(forest.num_features() + 1);
  forest.contributions(row.data(), contributions.data());
  std::vector<decision_reason> reasons;
  const auto& names = pipeline::feature_names();
  for (std::size_t i = 0; i < forest.num_features() && i < names.size(); ++i)
    if (contributions[i] > 0)
      reasons.push_back({names[i], row[i], contributions[i]});
  std::sort(reasons.begin(), reasons.end(),
            [](const auto& a, const auto& b) { return a.contribution > b.contribution; });
  if (reasons.size() > k)
    reasons.resize(k);
  return reasons;
}

void store_sample_rows(const model_registry& registry, int version,
                       const std::vector<float>& rows) {
  std::string bytes(rows.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), rows.data(), bytes.size());
  write_file_atomically(sample_path(registry, version), bytes);
}

std::shared_ptr<const scoring_model> load_scoring_model(const model_registry& registry,
                                                        int version) {
  auto entry = registry.find(version);
  if (!entry)
    throw registry_error("no model version " + std::to_string(version));
  auto schema = entry->metadata.value("feature_schema_hash", "");
  if (schema != pipeline::feature_schema_hash())
    throw registry_error("model v" + std::to_string(version) + " was trained on feature schema " +
                         schema + ", this build computes " + pipeline::feature_schema_hash());
  std::string json = registry.model_json(version);
  std::string error;
  auto forest = forest_evaluator::from_xgboost_json(json, &error);
  if (!forest)
    throw registry_error("model v" + std::to_string(version) + ": " + error);
  if (forest->num_features() > static_cast<std::size_t>(pipeline::feature_count))
    throw registry_error("model v" + std::to_string(version) + " uses more features than the schema");

  std::string bytes = read_whole_file(sample_path(registry, version));
  std::size_t row_bytes = sizeof(float) * pipeline::feature_count;
  if (bytes.empty() || bytes.size() % row_bytes != 0)
    throw registry_error("model v" + std::to_string(version) + ": sample rows missing or truncated");
  std::vector<float> rows(bytes.size() / sizeof(float));
  std::memcpy(rows.data(), bytes.data(), bytes.size());
  auto booster = xgb_booster::load_json(json);
  double max_diff = 0;
  if (!matches_xgboost(*forest, booster, rows.data(), rows.size() / pipeline::feature_count,
                       equality_tolerance, &max_diff, &error))
    throw registry_error("model v" + std::to_string(version) +
                         " evaluator differs from XGBoost: " + error);

  auto model = std::make_shared<scoring_model>();
  model->version = version;
  model->stage = to_string(entry->stage);
  model->threshold = entry->metadata.value("threshold", 0.5);
  model->forest = std::move(*forest);
  // The profile is for drift only: without it the model still serves.
  auto profile_path = registry.version_dir(version) / "reference_profile.json";
  if (!std::filesystem::exists(profile_path)) {
    model->reference_problem = "no reference";
  } else {
    try {
      model->reference = std::make_shared<const reference_profile>(
        reference_from_json(nlohmann::json::parse(read_whole_file(profile_path))));
    } catch (const std::exception& e) {
      model->reference_problem = std::string("reference unreadable: ") + e.what();
    }
  }
  return model;
}

} // namespace vigil::models
