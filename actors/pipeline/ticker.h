#pragma once
// Ticks for a detached actor. A detached actor that sends itself delayed
// ticks always has one waiting in CAF's clock, which holds a strong
// reference to it; when the actor system shuts down, the clock stops with
// that message still in it, the actor is never destroyed, and the system's
// destructor waits for its thread forever (seen as a node that printed
// "stopped" and never exited). The ticker holds only a weak reference: it
// sends `tick` to the target every `interval` while the target lives, and
// quits once it is gone.

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace vigil::actors {

void spawn_ticker(caf::actor_system& sys, caf::actor_addr target, caf::timespan interval);

} // namespace vigil::actors
