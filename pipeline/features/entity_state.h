#pragma once
// Per-key behavioural state. Plain data with a fixed size (labels waiting
// for their time aside, bounded in count), so memory per key is bounded and
// known (see the byte counts below), and serialisation is exact.

#include "pipeline/features/bucketed_window.h"
#include "pipeline/features/recent_set.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil::pipeline {

/// A label that travelled with its transaction (a replayed file), waiting
/// in its user's and its merchant's state until the stream's event time
/// reaches the time it became known.
struct pending_label {
  std::int64_t known_at_ms = 0;
  std::int64_t event_time_ms = 0;  ///< of its transaction
  bool is_fraud = false;
};

/// Labels one user or merchant holds back at most; past that the earliest
/// known is taken in early (and counted), so a key's state stays bounded.
constexpr std::size_t max_pending_labels = 10'000;

/// State of one user (card holder). sizeof(user_state) is 5,136 bytes:
/// six windows (134 buckets x 32 B) plus three recent sets (32 x 24 B) plus
/// the last-record fields, plus labels waiting for their time (on the heap,
/// as for merchants). See the test "state sizes are bounded".
struct user_state {
  window_10m count_10m;
  window_1h amounts_1h;    ///< marked = small amounts
  window_24h amounts_24h;
  window_7d amounts_7d;
  window_30d amounts_30d;
  recent_set<16> merchants;
  recent_set<8> countries;
  recent_set<8> devices;
  std::int64_t last_time_ms = std::numeric_limits<std::int64_t>::min();
  double last_latitude = std::nan("");
  double last_longitude = std::nan("");
  std::int64_t max_event_time_ms = std::numeric_limits<std::int64_t>::min();
  std::uint64_t records = 0;       ///< records applied to this state
  std::uint64_t late_records = 0;  ///< records beyond allowed lateness (not applied)
  window_30d labels_30d;           ///< the user's own labelled records: count = labelled, marked = fraud
  std::vector<pending_label> pending_labels;  ///< as for merchants
  std::uint64_t labels_taken_early = 0;

  bool operator==(const user_state& o) const;
};

/// State of one merchant. sizeof(merchant_state) is 3,328 bytes: four
/// windows (94 buckets x 32 B) plus a ring of 32 user hashes, plus labels
/// waiting for their time (at most max_pending_labels x 24 B more, on the
/// heap; none on a live node, whose /feedback labels apply at once).
struct merchant_state {
  window_1h amounts_1h;
  window_24h amounts_24h;
  window_7d amounts_7d;
  window_30d labels_30d;   ///< by transaction event time: count = labelled, marked = fraud
  std::array<std::uint64_t, 32> recent_users{};  ///< ring of user hashes
  std::uint32_t recent_users_next = 0;
  std::uint32_t recent_users_size = 0;
  std::int64_t max_event_time_ms = std::numeric_limits<std::int64_t>::min();
  std::uint64_t records = 0;
  std::uint64_t late_records = 0;
  /// Sorted by known_at_ms; labels known at the same instant in arrival order.
  std::vector<pending_label> pending_labels;
  std::uint64_t labels_taken_early = 0;  ///< over max_pending_labels

  bool operator==(const merchant_state& o) const;
};

/// Hashes state keys. Being noexcept and not std::hash<std::string>, it
/// makes libstdc++ keep no hash code in each node: that code would sit after
/// the kilobytes of state, one more cache miss on every lookup.
struct state_key_hash {
  std::size_t operator()(const std::string& key) const noexcept { return std::hash<std::string_view>{}(key); }
};
using user_map = std::unordered_map<std::string, user_state, state_key_hash>;
using merchant_map = std::unordered_map<std::string, merchant_state, state_key_hash>;

} // namespace vigil::pipeline
