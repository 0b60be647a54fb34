#pragma once
// States by key with a flat lookup index beside them. A lookup in a
// std::unordered_map of 5 kB states costs three dependent cache misses (the
// bucket, the node before the first in it, that node's key); in this index
// it costs one (a 16-byte slot holding the key's hash and its entry), and
// the entry's own line, which reading the state needs anyway. A batch can
// also announce its keys first (prefetch), so those misses overlap, and
// load the next key's state while it reads one (prefetch_state).

#include "pipeline/features/entity_state.h"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vigil::pipeline {

template <class State>
class indexed_states {
 public:
  using map_type = std::unordered_map<std::string, State, state_key_hash>;

  indexed_states() = default;
  indexed_states(const indexed_states& other) : states_(other.states_) { reindex(); }
  indexed_states(indexed_states&&) noexcept = default;  // entries keep their addresses
  indexed_states& operator=(const indexed_states& other) {
    states_ = other.states_;
    reindex();
    return *this;
  }
  indexed_states& operator=(indexed_states&&) noexcept = default;

  /// Every state, by key (read-only: changes go through this class).
  const map_type& all() const { return states_; }
  std::size_t size() const { return states_.size(); }

  State* find(const std::string& key) {
    auto i = slot_of(key, state_key_hash{}(key));
    return i == npos ? nullptr : &slots_[i].entry->second;
  }
  const State* find(const std::string& key) const { return const_cast<indexed_states*>(this)->find(key); }
  State& at(const std::string& key) {
    if (auto* state = find(key))
      return *state;
    throw std::out_of_range("no state for key " + key);
  }

  /// The key's state, created empty when missing (true then).
  std::pair<State*, bool> try_emplace(const std::string& key) {
    const auto hash = state_key_hash{}(key);
    if (auto i = slot_of(key, hash); i != npos)
      return {&slots_[i].entry->second, false};
    if (2 * (states_.size() + 1) > slots_.size())
      grow(states_.size() + 1);  // first: a failed allocation leaves both as they were
    auto [it, created] = states_.try_emplace(key);
    place({hash, &*it});
    return {&it->second, true};
  }
  State& operator[](const std::string& key) { return *try_emplace(key).first; }

  bool erase(const std::string& key) {
    auto i = slot_of(key, state_key_hash{}(key));
    if (i == npos)
      return false;
    states_.erase(key);
    unplace(i);
    return true;
  }

  /// Starts loading what looking up these keys will read: their slots
  /// first, then the entries those slots name. Finds made soon after hit
  /// the cache. Changes nothing.
  template <class It, class KeyOf>
  void prefetch(It first, It last, KeyOf key_of) const {
    if (slots_.empty())
      return;
    hashes_.clear();
    for (auto it = first; it != last; ++it) {
      hashes_.push_back(state_key_hash{}(key_of(*it)));
      __builtin_prefetch(&slots_[hashes_.back() & mask_]);
    }
    for (auto hash : hashes_) {
      // The first slot with the key's hash: almost always its own entry.
      for (auto i = hash & mask_; slots_[i].entry; i = (i + 1) & mask_)
        if (slots_[i].hash == hash) {
          __builtin_prefetch(slots_[i].entry);
          break;
        }
    }
  }

  /// Starts loading the whole state of one key (features read all of it),
  /// to be read a little later. Changes nothing.
  void prefetch_state(const std::string& key) const {
    if (auto* state = find(key)) {
      const char* p = reinterpret_cast<const char*>(state);
      for (std::size_t offset = 0; offset < sizeof(State); offset += 64)
        __builtin_prefetch(p + offset, 0, 2);
    }
  }

 private:
  using entry_type = typename map_type::value_type;
  struct slot {
    std::size_t hash = 0;
    entry_type* entry = nullptr;  ///< none: the slot is free
  };
  static constexpr std::size_t npos = ~std::size_t{0};

  std::size_t slot_of(const std::string& key, std::size_t hash) const {
    if (slots_.empty())
      return npos;
    for (auto i = hash & mask_; slots_[i].entry; i = (i + 1) & mask_)
      if (slots_[i].hash == hash && slots_[i].entry->first == key)
        return i;
    return npos;
  }

  void place(slot s) {
    auto i = s.hash & mask_;
    while (slots_[i].entry)
      i = (i + 1) & mask_;
    slots_[i] = s;
  }

  // Frees slot i and moves later slots of its run back, so that every
  // entry stays reachable from its home slot (no tombstones).
  void unplace(std::size_t i) {
    slots_[i] = {};
    for (auto j = (i + 1) & mask_; slots_[j].entry; j = (j + 1) & mask_) {
      const auto home = slots_[j].hash & mask_;
      // Slot j stays where it is when its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays)
        continue;
      slots_[i] = slots_[j];
      slots_[j] = {};
      i = j;
    }
  }

  // Room for `entries` with at most half the slots used: runs stay short.
  void grow(std::size_t entries) {
    std::size_t size = slots_.empty() ? 16 : slots_.size();
    while (2 * entries > size)
      size *= 2;
    auto old = std::move(slots_);
    slots_.assign(size, slot{});
    mask_ = size - 1;
    for (const auto& s : old)
      if (s.entry)
        place(s);
  }

  void reindex() {
    slots_.clear();
    mask_ = 0;
    if (states_.empty())
      return;
    grow(states_.size());
    for (auto& entry : states_)
      place({state_key_hash{}(entry.first), &entry});
  }

  map_type states_;
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  mutable std::vector<std::size_t> hashes_;  ///< prefetch's scratch
};

} // namespace vigil::pipeline
