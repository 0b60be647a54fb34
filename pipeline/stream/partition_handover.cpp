#include "pipeline/stream/partition_handover.h"

namespace vigil::pipeline {

partition_handover::action partition_handover::next(const std::vector<std::int32_t>& revoking, bool lost,
                                                    const std::vector<std::int32_t>& assigned,
                                                    std::int64_t now_ns) {
  if (!revoking_ && !revoking.empty()) {
    if (lost || !checkpoints_)
      return {action_kind::release_now, revoking};
    revoking_ = true;
    return {action_kind::checkpoint_first, revoking};
  }
  if (revoking_ || assigned.empty() || now_ns < retry_at_ns_)
    return {};
  return {action_kind::restore, assigned};
}

void partition_handover::checkpoint_started(std::uint64_t number) {
  if (revoking_ && covering_ == 0)
    covering_ = number;
}

bool partition_handover::release_after(std::uint64_t number) {
  return revoking_ && covering_ != 0 && covering_ == number;
}

} // namespace vigil::pipeline
