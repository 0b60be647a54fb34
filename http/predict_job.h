#pragma once
// One /predict call on its way through the actors, and its answer. Plain
// C++ (no CAF): a job travels as a shared pointer within one node.

#include "pipeline/schema/transaction.h"
#include "http/node_api.h"

#include <memory>
#include <vector>

namespace vigil::http {

struct predict_job {
  std::vector<pipeline::transaction> transactions;
  bool update = false;     ///< fold into stream state as well
  bool explain = false;    ///< reasons for approved decisions too
  bool features = false;   ///< the scored vector in each decision
  bool expensive = false;  ///< reasons and rendering on the expensive lane
  std::int64_t received_ns = 0;  ///< steady clock, for latency_us
  /// Called exactly once with one rendered decision per transaction.
  http::decisions_continuation done;
};
using predict_job_ptr = std::shared_ptr<predict_job>;

} // namespace vigil::http
