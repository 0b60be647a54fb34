#pragma once
// Publishes decisions and tells the source when a batch is fully delivered
// (every part published and acknowledged), which is when the source may
// commit its offsets and reuse the batch's credit.

#include "actors/pipeline/actor_interfaces.h"
#include "pipeline/connectors/decision_publisher.h"

#include <caf/fwd.hpp>

#include <memory>

namespace vigil::actors {

/// A sink (see sink_actor) expecting `parts` decision batches per source
/// batch (one per merchant shard). Listeners receive every batch after
/// publication (the retraining log).
sink_actor spawn_sink_actor(caf::actor_system& sys, int parts,
                            std::shared_ptr<connectors::decision_publisher> publisher);

} // namespace vigil::actors
