#include "pipeline/stream/work_item.h"

#include <chrono>

namespace vigil::pipeline {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace vigil::pipeline
