#pragma once
// The one place where an actor failure (CAF's error: a request that timed
// out, a receiver that is gone) becomes Vigil's own error.

#include "pipeline/errors/vigil_error.h"

#include <caf/fwd.hpp>

namespace vigil::actors {

/// Every actor failure is pipeline_unavailable: the client may retry; the
/// message names CAF's reason.
vigil_error to_vigil_error(const caf::error& e);

} // namespace vigil::actors
