#pragma once
// Scorer pool member: scores whole batch parts with the current model. A
// model swap arrives as a message, so it takes effect between two batches:
// no batch is scored twice or by a mix of models.

#include "actors/pipeline/pipeline_messages.h"

#include <caf/fwd.hpp>

namespace vigil::actors {

/// Messages: (score, id, batch_ptr) -> sends (decisions, id, decision_batch_ptr)
/// to `sink`; (predict, batch_ptr, reasons_for_all) -> decision_batch_ptr; (model, model_ptr);
/// (config, config_ptr).
caf::actor spawn_scorer_actor(caf::actor_system& sys, caf::actor sink, model_ptr model,
                              config_ptr config);

} // namespace vigil::actors
