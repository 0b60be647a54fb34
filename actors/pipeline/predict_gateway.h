#pragma once
// The /predict gateway: hands concurrent requests to the same shards and
// scorers as the stream, many requests per hop under load and none waiting
// when idle (see predict_coalescer.h). Cheap requests are rendered on the
// actor threads; expensive ones (explanations, large arrays) are explained
// and rendered on the expensive lane, off the actor and I/O threads.

#include "actors/pipeline/actor_interfaces.h"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace vigil::http {
class expensive_lane;
}
namespace vigil::models {
class drift_tracker;
}

namespace vigil::actors {

struct predict_gateway_wiring {
  std::vector<user_shard_actor> user_shards;
  std::vector<merchant_shard_actor> merchant_shards;
  std::vector<scorer_actor> scorers;
  /// Receives the decisions of passes that updated state (labels join them).
  decision_listener_actor coordinator;
  /// Where expensive jobs finish; nullptr = on the gateway.
  std::shared_ptr<http::expensive_lane> lane;
  /// Counts the decisions of passes that updated state; may be null.
  std::shared_ptr<models::drift_tracker> drift;
  std::size_t max_in_flight = 2;           ///< passes at once (measured: 2 beat 1 and 4)
  std::size_t max_pass_items = 1024;       ///< per pass (a larger job goes whole)
  std::size_t max_queued_items = 100'000;  ///< beyond: refused, overloaded
  /// A pass not answered by then fails its jobs (pipeline_unavailable) and
  /// frees its slot; checked a few times per deadline.
  std::chrono::milliseconds pass_deadline{5000};
};

predict_gateway_actor spawn_predict_gateway(caf::actor_system& sys, predict_gateway_wiring wiring);

} // namespace vigil::actors
