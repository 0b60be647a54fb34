#include "models/training/temporal_split.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vigil::models {

temporal_split split_by_time(const std::vector<std::int64_t>& times, double train_fraction,
                             double validation_fraction, std::int64_t gap_ms) {
  if (train_fraction <= 0 || validation_fraction <= 0 || train_fraction + validation_fraction >= 1)
    throw std::invalid_argument("split fractions must be positive and sum below 1");
  if (gap_ms < 0)
    throw std::invalid_argument("the gap between slices cannot be negative");
  if (!std::is_sorted(times.begin(), times.end()))
    throw std::invalid_argument("rows must be sorted by event time");
  const std::size_t n = times.size();
  auto advance_past_ties = [&](std::size_t i) {
    while (i > 0 && i < n && times[i] == times[i - 1])
      ++i;
    return std::min(i, n);
  };
  // The first row later than `end` plus the gap.
  auto after_gap = [&](std::size_t end) {
    if (end == 0)
      return std::size_t{0};
    auto after = times[end - 1] + gap_ms;
    return static_cast<std::size_t>(std::upper_bound(times.begin(), times.end(), after) - times.begin());
  };
  temporal_split s;
  s.rows = n;
  s.gap_ms = gap_ms;
  // The fractions are of the rows outside the gaps: a few passes find them.
  std::size_t kept = n;
  for (int pass = 0; pass < 6; ++pass) {
    s.train_end = advance_past_ties(static_cast<std::size_t>(kept * train_fraction));
    s.validation_begin = std::max(s.train_end, after_gap(s.train_end));
    s.validation_end =
      advance_past_ties(std::min(n, s.validation_begin + static_cast<std::size_t>(kept * validation_fraction)));
    s.test_begin = std::max(s.validation_end, after_gap(s.validation_end));
    kept = n - (s.validation_begin - s.train_end) - (s.test_begin - s.validation_end);
  }
  const auto hours = std::to_string(gap_ms / 3'600'000);
  if (s.validation_begin >= s.validation_end || s.test_begin >= n)
    throw std::invalid_argument("a gap of " + hours + " h between slices leaves " +
                                (s.validation_begin >= s.validation_end ? "validation" : "test") +
                                " without rows: give more history or a shorter gap");
  if (s.train_end > 0) {
    s.fit_time_ms = times[s.train_end - 1] + gap_ms;
    s.selection_time_ms = times[s.validation_end - 1] + gap_ms;
  }
  return s;
}

std::vector<std::size_t> rows_labelled_by(const std::vector<std::int64_t>& label_times, std::size_t begin,
                                          std::size_t end, std::int64_t known_by_ms) {
  std::vector<std::size_t> rows;
  rows.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i)
    if (label_times.empty() || label_times[i] <= known_by_ms)
      rows.push_back(i);
  return rows;
}

std::int64_t median_label_delay_ms(const std::vector<std::int64_t>& event_times,
                                   const std::vector<std::int64_t>& label_times) {
  if (label_times.empty() || label_times.size() != event_times.size())
    return 0;
  std::vector<std::int64_t> delays(label_times.size());
  for (std::size_t i = 0; i < delays.size(); ++i)
    delays[i] = std::max<std::int64_t>(0, label_times[i] - event_times[i]);
  auto middle = delays.begin() + static_cast<std::ptrdiff_t>(delays.size() / 2);
  std::nth_element(delays.begin(), middle, delays.end());
  return *middle;
}

} // namespace vigil::models
