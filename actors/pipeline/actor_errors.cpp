#include "actors/pipeline/actor_errors.h"

#include <caf/error.hpp>
#include <caf/sec.hpp>

namespace vigil::actors {

vigil_error to_vigil_error(const caf::error& e) {
  return vigil_error(vigil_errc::pipeline_unavailable, "pipeline unavailable: " + caf::to_string(e));
}

} // namespace vigil::actors
