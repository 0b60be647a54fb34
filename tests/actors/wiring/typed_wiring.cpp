// Compiled twice by ctest: as is it must compile; with VIGIL_WRONG_WIRING
// it must not (a scorer handle does not take a user shard's batch), which is
// what typed actor handles promise.

#include "actors/pipeline/actor_interfaces.h"

#include <caf/send.hpp>

void wire(vigil::actors::scorer_actor scorer, vigil::actors::batch_ptr batch) {
#ifdef VIGIL_WRONG_WIRING
  caf::anon_send(scorer, vigil::actors::user_batch_atom::value, std::uint64_t{1}, batch);
#else
  caf::anon_send(scorer, vigil::actors::score_atom::value, std::uint64_t{1}, batch);
#endif
}
