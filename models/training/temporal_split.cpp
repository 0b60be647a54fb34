#include "models/training/temporal_split.h"

#include <algorithm>
#include <stdexcept>

namespace vigil::models {

temporal_split split_by_time(const std::vector<std::int64_t>& times,
                             double train_fraction, double validation_fraction) {
  if (train_fraction <= 0 || validation_fraction <= 0 ||
      train_fraction + validation_fraction >= 1)
    throw std::invalid_argument("split fractions must be positive and sum below 1");
  if (!std::is_sorted(times.begin(), times.end()))
    throw std::invalid_argument("rows must be sorted by event time");
  auto advance_past_ties = [&](std::size_t i) {
    while (i > 0 && i < times.size() && times[i] == times[i - 1])
      ++i;
    return i;
  };
  temporal_split s;
  s.rows = times.size();
  s.train_end = advance_past_ties(static_cast<std::size_t>(times.size() * train_fraction));
  s.validation_end = std::max(s.train_end, advance_past_ties(static_cast<std::size_t>(
                                             times.size() * (train_fraction + validation_fraction))));
  return s;
}

} // namespace vigil::models
