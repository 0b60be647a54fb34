#pragma once
// One request to an actor from outside the actor system, without blocking
// the caller: a short-lived actor sends it and hands the reply, or the error
// (timeout included), to `done` on an actor thread, then exits.

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <functional>

namespace vigil::actors {

template <class Reply, class Dest, class... Ts>
void async_request(caf::actor_system& sys, Dest dest, std::chrono::milliseconds timeout,
                   std::function<void(caf::expected<Reply>)> done, Ts... xs) {
  // Arguments, not captures: CAF 0.17 dereferences a null argument tuple
  // for a function actor spawned without any.
  sys.spawn(
    [](caf::event_based_actor* self, Dest to, std::chrono::milliseconds wait,
       std::function<void(caf::expected<Reply>)> then, Ts... args) {
      self->request(to, wait, args...)
        .then([then](Reply& r) { then(std::move(r)); }, [then](caf::error& e) { then(std::move(e)); });
    },
    std::move(dest), timeout, std::move(done), std::move(xs)...);
}

} // namespace vigil::actors
