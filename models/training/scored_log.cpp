#include "models/training/scored_log.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <stdexcept>

namespace vigil::models {

namespace {

std::uint64_t hash_of(std::string_view transaction_id) {
  return std::hash<std::string_view>{}(transaction_id);
}

// What an entry keeps of a decision (not whether it was labelled: a
// replayed decision keeps that), by assignment, so strings reuse memory.
void take_decision(scored_entry& e, const decision_record& d) {
  e.features = d.features;
  e.merchant_id = d.merchant_id;
  e.user_id = d.user_id;
  e.event_time_ms = d.event_time_ms;
  e.flagged = d.decision != decision_kind::approve;
  e.shadow_flagged = -1;
}

} // namespace

scored_log::scored_log(std::size_t max_scored, std::size_t max_labelled)
  : max_scored_(max_scored), max_labelled_(max_labelled) {
  if (max_scored_ > (std::size_t{1} << 31))
    throw std::invalid_argument("the scored log keeps at most 2^31 decisions");
}

std::size_t scored_log::slot_of(std::string_view transaction_id, std::uint64_t hash) const {
  if (index_.empty())
    return npos;
  const auto mask = index_.size() - 1;
  for (auto i = static_cast<std::size_t>(hash) & mask; index_[i].place != 0; i = (i + 1) & mask)
    if (index_[i].hash == hash && at(index_[i].place - 1).transaction_id == transaction_id)
      return i;
  return npos;
}

scored_entry* scored_log::find(std::string_view transaction_id) {
  auto i = slot_of(transaction_id, hash_of(transaction_id));
  return i == npos ? nullptr : &at(index_[i].place - 1).entry;
}

void scored_log::place_in_index(std::uint64_t hash, std::uint32_t place) {
  const auto mask = index_.size() - 1;
  auto i = static_cast<std::size_t>(hash) & mask;
  while (index_[i].place != 0)
    i = (i + 1) & mask;
  index_[i] = {hash, place};
}

// Backward-shift deletion: the slots after it that would no longer be
// reachable from their home slot move up, so probing stops at the first
// empty slot as before.
void scored_log::remove_from_index(std::size_t slot) {
  const auto mask = index_.size() - 1;
  for (auto next = (slot + 1) & mask; index_[next].place != 0; next = (next + 1) & mask) {
    const auto home = static_cast<std::size_t>(index_[next].hash) & mask;
    const bool reachable = slot <= next ? (slot < home && home <= next) : (slot < home || home <= next);
    if (!reachable) {
      index_[slot] = index_[next];
      slot = next;
    }
  }
  index_[slot] = {};
}

void scored_log::grow_index() {
  std::vector<index_slot> old(std::max<std::size_t>(16, 2 * index_.size()));
  old.swap(index_);
  for (const auto& s : old)
    if (s.place != 0)
      place_in_index(s.hash, s.place);
}

void scored_log::record(const decision_record& d) {
  if (max_scored_ == 0)
    return;
  const auto hash = hash_of(d.transaction_id);
  if (auto i = slot_of(d.transaction_id, hash); i != npos) {
    // A replayed decision: the same vector; it keeps its place and what it
    // knew about labels.
    take_decision(at(index_[i].place - 1).entry, d);
    return;
  }
  std::size_t place;
  if (size_ < max_scored_) {
    // Allocations first: a failed one leaves the log as it was.
    if (2 * (size_ + 1) > index_.size())
      grow_index();
    if (size_ == chunks_.size() * chunk_slots)
      chunks_.push_back(std::make_unique<scored_slot[]>(chunk_slots));
    place = size_++;
  } else {
    place = oldest_;
    oldest_ = (oldest_ + 1) % max_scored_;
    const auto& evicted = at(place).transaction_id;
    remove_from_index(slot_of(evicted, hash_of(evicted)));
  }
  auto& slot = at(place);
  slot.transaction_id = d.transaction_id;  // assignments reuse the evicted entry's memory
  take_decision(slot.entry, d);
  slot.entry.labelled = false;
  place_in_index(hash, static_cast<std::uint32_t>(place + 1));
}

void scored_log::record_shadow(const decision_record& d) {
  if (auto* e = find(d.transaction_id))
    e->shadow_flagged = d.decision != decision_kind::approve ? 1 : 0;
}

std::optional<scored_entry> scored_log::join(const pipeline::label_event& label) {
  auto* entry = find(label.transaction_id);
  if (!entry)
    return std::nullopt;
  scored_entry joined = *entry;
  if (auto at = labelled_at_.find(label.transaction_id); at != labelled_at_.end()) {
    labelled_[at->second - labelled_front_].is_fraud = label.is_fraud;  // the newest label counts
    joined.labelled = true;
    return joined;
  }
  labelled_.push_back({*entry, label.transaction_id, label.is_fraud});
  labelled_at_[label.transaction_id] = labelled_front_ + labelled_.size() - 1;
  while (labelled_.size() > max_labelled_) {
    auto at = labelled_at_.find(labelled_.front().transaction_id);
    if (at != labelled_at_.end() && at->second == labelled_front_)
      labelled_at_.erase(at);
    labelled_.pop_front();
    ++labelled_front_;
  }
  entry->labelled = true;
  return joined;
}

pipeline::feature_table scored_log::labelled_rows() const {
  std::vector<std::size_t> order(labelled_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return labelled_[a].entry.event_time_ms < labelled_[b].entry.event_time_ms;
  });
  pipeline::feature_table t;
  for (auto i : order) {
    const auto& row = labelled_[i];
    t.values.insert(t.values.end(), row.entry.features.begin(), row.entry.features.end());
    t.labels.push_back(row.is_fraud ? 1.0f : 0.0f);
    t.patterns.emplace_back();
    t.event_times_ms.push_back(row.entry.event_time_ms);
    t.transaction_ids.push_back(row.transaction_id);
  }
  return t;
}

} // namespace vigil::models
