#pragma once
// Publishes decisions and tells the source when a batch is fully delivered
// (every part published and acknowledged), which is when the source may
// commit its offsets and reuse the batch's credit.

#include "actors/pipeline/decision_publisher.h"

#include <caf/fwd.hpp>

#include <memory>

namespace vigil::actors {

/// Messages: (decisions, id, decision_batch_ptr) from scorers, `parts` per
/// batch; (subscribe, source) once, to learn where to send (done, id);
/// (subscribe, listener, true) adds a listener that receives every
/// (decisions, id, decision_batch_ptr) after publication (retraining log).
caf::actor spawn_sink_actor(caf::actor_system& sys, int parts,
                            std::shared_ptr<decision_publisher> publisher);

} // namespace vigil::actors
