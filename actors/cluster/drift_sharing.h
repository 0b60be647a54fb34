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

#include <chrono>
#include <memory>
#include <string>

namespace vigil::connectors {
class drift_count_store;
}
namespace vigil::models {
class drift_view;
}

namespace vigil::actors {

/// How long to wait after a sharing round that took `round_took` before
/// the next: 20 times as long, at least the 5-s base interval, at most a
/// minute. Live traffic touches one 10-minute bucket a round and its rounds
/// take milliseconds (every 5 s); a fast replay touches every bucket of the
/// last day in each round, whose Redis work then grows with the node's
/// speed, so its rounds space out and the sharing's share of Redis and of
/// the node stays bounded (the cluster's view is then up to a minute old).
std::chrono::milliseconds drift_round_spacing(std::chrono::milliseconds round_took);

/// Detached: the store's Redis calls block.
drift_sharing_actor spawn_drift_sharing(caf::actor_system& sys, std::shared_ptr<models::drift_view> view,
                                        std::shared_ptr<connectors::drift_count_store> store);

} // namespace vigil::actors
