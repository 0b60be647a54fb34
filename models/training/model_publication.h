#pragma once
// Registering a trained model with everything serving needs: metadata,
// equality-check sample rows, the report and plots. Also the first-run
// bootstrap that gives an empty registry a production model.

#include "models/registry/model_registry.h"
#include "models/training/model_trainer.h"

namespace vigil::models {

/// Adds the model as a candidate and checks that it loads (evaluator equal
/// to XGBoost). Returns the new version. Throws registry_error.
int register_trained_model(model_registry& registry, const training_result& result,
                           const pipeline::feature_table& table);

/// When the registry has no production model, simulates `transactions`
/// records (seed 1000, distinct from the default stream), trains a quick
/// model on them and promotes it. Returns the production version.
int ensure_production_model(model_registry& registry, std::int64_t transactions,
                            const progress_callback& progress);

} // namespace vigil::models
