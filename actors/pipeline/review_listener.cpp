#include "actors/pipeline/review_listener.h"

#include "models/review/review_queue.h"

#include <caf/all.hpp>

namespace vigil::actors {

decision_listener_actor spawn_review_listener(caf::actor_system& sys, std::shared_ptr<models::review_queue> queue) {
  return sys.spawn([queue](decision_listener_actor::pointer) -> decision_listener_actor::behavior_type {
    return {[queue](decisions_atom, std::uint64_t, decision_batch_ptr batch) { queue->add(*batch); }};
  });
}

} // namespace vigil::actors
