#pragma once
// Drift over the whole cluster's traffic: every few seconds this node adds
// what its scorers counted since the last round to the cluster's counts in
// Redis (connectors::drift_count_store), then reads every node's totals
// back into its drift_view, which GET /models, /metrics and the retraining
// trigger report. A share that fails is kept and retried with its numbers
// (each of its bounded Redis calls applied once); past `max_pending`
// waiting shares the oldest are dropped and counted. A clean stop may
// leave the last round's counts unshared.

#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace vigil::connectors {
class drift_count_store;
}
namespace vigil::models {
class drift_view;
}

namespace vigil::actors {

/// Detached: the store's Redis calls block.
drift_sharing_actor spawn_drift_sharing(caf::actor_system& sys, std::shared_ptr<models::drift_view> view,
                                        std::shared_ptr<connectors::drift_count_store> store);

} // namespace vigil::actors
