#pragma once
// A bounded set of recently seen keys (by 64-bit hash) with a count each.
// When full, the least recently seen key is evicted. Memory: Capacity * 24 bytes.

#include <array>
#include <cstdint>

namespace vigil::pipeline {

struct recent_entry {
  std::uint64_t key = 0;        ///< stable hash of the key; 0 = empty slot
  std::uint32_t count = 0;      ///< times seen while held
  std::int64_t last_seen_ms = 0;

  bool operator==(const recent_entry& o) const {
    return key == o.key && count == o.count && last_seen_ms == o.last_seen_ms;
  }
};

template <int Capacity>
class recent_set {
 public:
  static constexpr int capacity = Capacity;

  /// Count held for `key`, 0 when not held.
  std::uint32_t count(std::uint64_t key) const {
    for (const auto& e : entries_)
      if (e.key == key && e.count > 0)
        return e.count;
    return 0;
  }

  /// Total count over all held keys.
  std::uint32_t total() const {
    std::uint32_t n = 0;
    for (const auto& e : entries_)
      n += e.count;
    return n;
  }

  /// Records one sighting of `key` at time t.
  void touch(std::uint64_t key, std::int64_t t_ms) {
    recent_entry* victim = &entries_[0];
    for (auto& e : entries_) {
      if (e.key == key && e.count > 0) {
        ++e.count;
        if (t_ms > e.last_seen_ms)
          e.last_seen_ms = t_ms;
        return;
      }
      if (e.count == 0 ||
          (victim->count != 0 && e.last_seen_ms < victim->last_seen_ms))
        victim = &e;
    }
    *victim = recent_entry{key, 1, t_ms};
  }

  const std::array<recent_entry, Capacity>& entries() const { return entries_; }
  std::array<recent_entry, Capacity>& entries() { return entries_; }
  bool operator==(const recent_set& o) const { return entries_ == o.entries_; }

 private:
  std::array<recent_entry, Capacity> entries_{};
};

/// FNV-1a 64-bit: stable across runs, builds and machines (snapshots rely on it).
inline std::uint64_t stable_hash(const char* data, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h; // 0 marks an empty slot
}

} // namespace vigil::pipeline
