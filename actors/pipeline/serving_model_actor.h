#pragma once
// The serving-model owner (see serving_model_actor in actor_interfaces.h).

#include "actors/pipeline/actor_interfaces.h"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <vector>

namespace vigil::actors {

/// Serves `initial` (not null) to `scorers`, which already hold it.
serving_model_actor spawn_serving_model(caf::actor_system& sys, model_ptr initial,
                                        std::vector<scorer_actor> scorers);

} // namespace vigil::actors
