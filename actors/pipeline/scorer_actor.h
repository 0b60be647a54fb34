#pragma once
// Scorer pool member: scores whole batch parts with the current model. A
// model swap arrives as a message, so it takes effect between two batches:
// no batch is scored twice or by a mix of models.

#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <memory>

namespace vigil::models {
class drift_tracker;
}

namespace vigil::actors {

/// A scorer (see scorer_actor) sending stream decisions to `sink`. On
/// (predict, batch, flagged_reasons) it computes reasons for flagged
/// decisions only when asked: the /predict gateway may explain elsewhere.
/// `drift` (may be null) counts every decision scored from the stream.
scorer_actor spawn_scorer_actor(caf::actor_system& sys, sink_actor sink, model_ptr model,
                                config_ptr config, std::shared_ptr<models::drift_tracker> drift);

} // namespace vigil::actors
