#pragma once
// An event-time sliding window made of N fixed-width buckets in a ring.
// Memory per window: N * sizeof(window_bucket) = N * 32 bytes, whatever the
// traffic. The window at time t covers the bucket holding t and the N-1
// buckets before it, so its span is between (N-1) and N bucket widths.

#include <array>
#include <cmath>
#include <cstdint>

namespace vigil::pipeline {

/// Totals of one bucket (or of a whole window).
struct window_bucket {
  std::int64_t index = -1;     ///< bucket number = event_time_ms / width; -1 empty
  std::uint32_t count = 0;     ///< records
  std::uint32_t marked = 0;    ///< records flagged by the caller (small amount, fraud)
  double sum = 0;              ///< sum of values
  double sum_sq = 0;           ///< sum of squared values
};

/// Aggregates of a window at some time.
struct window_totals {
  std::uint32_t count = 0;
  std::uint32_t marked = 0;
  double sum = 0;
  double sum_sq = 0;
  double mean() const { return count ? sum / count : 0.0; }
  /// Population standard deviation; 0 with fewer than two records.
  double stddev() const {
    if (count < 2)
      return 0.0;
    double m = mean();
    double var = sum_sq / count - m * m;
    return var > 0 ? std::sqrt(var) : 0.0;
  }
};

template <int Buckets, std::int64_t WidthMs>
class bucketed_window {
 public:
  static constexpr int bucket_count = Buckets;
  static constexpr std::int64_t width_ms = WidthMs;

  /// Adds a value at event time t. Returns false (and changes nothing) when
  /// the record is older than the oldest bucket still held for its slot.
  bool add(std::int64_t t_ms, double value, bool marked = false) {
    std::int64_t b = floor_div(t_ms, WidthMs);
    auto& slot = ring_[slot_of(b)];
    if (slot.index > b)
      return false;
    if (slot.index < b)
      slot = window_bucket{b, 0, 0, 0, 0};
    ++slot.count;
    slot.marked += marked ? 1 : 0;
    slot.sum += value;
    slot.sum_sq += value * value;
    return true;
  }

  /// Totals of the buckets in (bucket(t) - Buckets, bucket(t)].
  window_totals totals(std::int64_t t_ms) const { return totals_of_newest(t_ms, Buckets); }

  /// Totals of the newest `buckets` of them: (bucket(t) - buckets, bucket(t)].
  window_totals totals_of_newest(std::int64_t t_ms, int buckets) const {
    std::int64_t current = floor_div(t_ms, WidthMs);
    window_totals out;
    for (const auto& slot : ring_) {
      if (slot.index > current - buckets && slot.index <= current) {
        out.count += slot.count;
        out.marked += slot.marked;
        out.sum += slot.sum;
        out.sum_sq += slot.sum_sq;
      }
    }
    return out;
  }

  const std::array<window_bucket, Buckets>& buckets() const { return ring_; }
  std::array<window_bucket, Buckets>& buckets() { return ring_; }

  bool operator==(const bucketed_window& other) const {
    for (int i = 0; i < Buckets; ++i) {
      const auto& a = ring_[i];
      const auto& b = other.ring_[i];
      if (a.index != b.index || a.count != b.count || a.marked != b.marked ||
          a.sum != b.sum || a.sum_sq != b.sum_sq)
        return false;
    }
    return true;
  }

 private:
  static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
  }
  static int slot_of(std::int64_t bucket) {
    auto m = bucket % Buckets;
    return static_cast<int>(m < 0 ? m + Buckets : m);
  }

  std::array<window_bucket, Buckets> ring_{};
};

constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t hour_ms = 60 * minute_ms;
constexpr std::int64_t day_ms = 24 * hour_ms;

using window_10m = bucketed_window<10, minute_ms>;     // 1-minute buckets
using window_1h = bucketed_window<12, 5 * minute_ms>;  // 5-minute buckets
using window_24h = bucketed_window<24, hour_ms>;       // 1-hour buckets
using window_7d = bucketed_window<28, 6 * hour_ms>;    // 6-hour buckets
using window_30d = bucketed_window<30, day_ms>;        // 1-day buckets

} // namespace vigil::pipeline
