#pragma once
// Train / validation / test split by event time: every validation row is
// later than every training row, every test row later than validation.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil::models {

struct temporal_split {
  std::size_t train_end = 0;       ///< rows [0, train_end) train
  std::size_t validation_end = 0;  ///< rows [train_end, validation_end) validate; the rest test
  std::size_t rows = 0;
};

/// Splits rows already sorted by event time. Boundaries move forward past
/// rows sharing the boundary's timestamp, so no timestamp spans two slices.
/// Throws std::invalid_argument when times are not sorted or fractions are
/// outside (0, 1) or sum to 1 or more.
temporal_split split_by_time(const std::vector<std::int64_t>& event_times_ms,
                             double train_fraction, double validation_fraction);

} // namespace vigil::models
