#pragma once
// Train / validation / test split by event time, with the label delay in
// mind: every validation row is later than every training row, every test
// row later than validation, and a gap (the label delay) separates them, so
// a model is selected and tested on transactions after the labels it
// learnt from could have been known.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil::models {

/// Rows [0, train_end) train, [train_end, validation_begin) fall in the gap,
/// [validation_begin, validation_end) validate, [validation_end, test_begin)
/// fall in the gap, [test_begin, rows) test.
struct temporal_split {
  std::size_t train_end = 0;
  std::size_t validation_begin = 0;
  std::size_t validation_end = 0;
  std::size_t test_begin = 0;
  std::size_t rows = 0;
  std::int64_t gap_ms = 0;
  /// The instants the model is fitted and selected: the end of its slice's
  /// event time plus the gap. Only labels known by then are used.
  std::int64_t fit_time_ms = 0, selection_time_ms = 0;
};

/// Splits rows already sorted by event time. Training takes
/// `train_fraction` of the rows outside the gaps; validation starts after
/// `gap_ms` of event time and takes `validation_fraction` of them; test
/// starts after another gap and takes the rest. Boundaries move forward past rows
/// sharing the boundary's timestamp, so no timestamp spans two slices.
/// Throws std::invalid_argument when times are not sorted, fractions are
/// outside (0, 1) or sum to 1 or more, the gap is negative, or the gaps
/// leave validation or test without rows.
temporal_split split_by_time(const std::vector<std::int64_t>& event_times_ms,
                             double train_fraction, double validation_fraction,
                             std::int64_t gap_ms = 0);

/// Rows of [begin, end) whose label was known at `known_by_ms` (every row
/// when `label_times_ms` is empty: labels known now, as in live retraining).
std::vector<std::size_t> rows_labelled_by(const std::vector<std::int64_t>& label_times_ms, std::size_t begin,
                                          std::size_t end, std::int64_t known_by_ms);

/// The median delay between transactions and their labels (0 for none).
std::int64_t median_label_delay_ms(const std::vector<std::int64_t>& event_times_ms,
                                   const std::vector<std::int64_t>& label_times_ms);

} // namespace vigil::models
