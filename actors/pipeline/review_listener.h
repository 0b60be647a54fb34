#pragma once
// The actor that keeps the review queue current: the sink sends it every
// published batch, and it hands each to models::review_queue (flagged
// decisions, users' recent history). The queue is read by GET /review.

#include "actors/pipeline/actor_interfaces.h"

#include <memory>

namespace caf {
class actor_system;
}
namespace vigil::models {
class review_queue;
}

namespace vigil::actors {

decision_listener_actor spawn_review_listener(caf::actor_system& sys, std::shared_ptr<models::review_queue> queue);

} // namespace vigil::actors
