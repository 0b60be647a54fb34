#include "actors/pipeline/ticker.h"

#include "actors/pipeline/vigil_atoms.h"

#include <caf/all.hpp>

namespace vigil::actors {

void spawn_ticker(caf::actor_system& sys, caf::actor_addr target, caf::timespan interval) {
  sys.spawn<caf::hidden>(
    [](caf::event_based_actor* self, caf::actor_addr to, caf::timespan every) -> caf::behavior {
      self->send(self, tick_atom::value);
      return {
        [=](tick_atom) {
          auto alive = caf::actor_cast<caf::actor>(to);
          if (!alive)
            return self->quit();
          caf::anon_send(alive, tick_atom::value);
          self->delayed_send(self, every, tick_atom::value);
        },
      };
    },
    std::move(target), interval);
}

} // namespace vigil::actors
