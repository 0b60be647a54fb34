#include "pipeline/stream/keyed_shards.h"

#include "pipeline/features/recent_set.h"
#include "pipeline/features/spare_user_nodes.h"

#include <algorithm>
#include <limits>

namespace vigil::pipeline {

namespace {

// The keys whose newest event is past their TTL by the margin, measured
// against the newest event time the stream applied (HTTP never moves it).
template <class Map>
std::vector<std::string> idle_keys(const Map& states, std::int64_t stream_time_ms, const state_bounds& b) {
  std::vector<std::string> idle;
  if (stream_time_ms == std::numeric_limits<std::int64_t>::min())
    return idle;
  const auto cutoff = stream_time_ms - state_ttl_ms - b.forget_margin_ms;
  for (const auto& [id, state] : states)
    if (state.max_event_time_ms != std::numeric_limits<std::int64_t>::min() && state.max_event_time_ms < cutoff)
      idle.push_back(id);
  return idle;
}

// Visits a batch's items in order with their states loading ahead: every
// key's lookup first (they overlap), then each next item's whole state
// while one is read (bench: arrays of 100 from 193k to 210k tx/s).
template <class State, class Key, class Visit>
void visit_prefetched(const indexed_states<State>& states, work_batch& items, Key key, Visit visit) {
  states.prefetch(items.begin(), items.end(), key);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i + 1 < items.size())
      states.prefetch_state(key(items[i + 1]));
    visit(items[i]);
  }
}

const std::string& user_of(const work_item& item) { return item.tx.user_id; }
const std::string& merchant_of(const work_item& item) { return item.tx.merchant_id; }

} // namespace

void user_shard::process(work_batch& items, bool update) {
  visit_prefetched(users_, items, user_of, [&](work_item& item) {
    const auto& id = item.tx.user_id;
    const auto t = item.tx.event_time_ms;
    pipeline::fill_transaction_features(item.tx, item.features);
    auto* found = users_.find(id);
    pipeline::user_features_at(found, item.tx, update, item.features);  // an expired user starts over
    if (!update)
      return;
    auto& state = found ? *found : users_[id];
    if (!removed_.empty())  // a key forgotten, then seen again before the checkpoint
      removed_.erase(id);
    if (!pipeline::apply_to_user(state, item.tx, lateness_ms_))
      ++late_;
    if (item.label)
      pipeline::hold_label(state, {item.label->known_at_ms, t, item.label->is_fraud});
    changed_.insert(id);
    if (item.position.partition != pipeline::no_partition) {
      partitions_[id] = item.position.partition;
      http_users_.erase(id);
      stream_time_ms_ = std::max(stream_time_ms_, t);
    } else if (partitions_.count(id) == 0) {
      http_users_.touch_within(id, bounds_.max_http_keys, [this](const std::string& old) { forget(old); });
    }
  });
}

bool user_shard::apply_label(const std::string& user_id, std::int64_t event_time_ms, bool is_fraud) {
  auto* state = users_.find(user_id);
  if (!state)
    return false;
  pipeline::apply_label_to_user(*state, event_time_ms, is_fraud);
  changed_.insert(user_id);
  return true;
}

void user_shard::forget(const std::string& id) {
  users_.erase(id);
  changed_.erase(id);
  http_users_.erase(id);
  auto owner = partitions_.find(id);
  removed_[id] = owner == partitions_.end() ? pipeline::no_partition : owner->second;
  if (owner != partitions_.end())
    partitions_.erase(owner);
  ++forgotten_;
}

pipeline::store_snapshot user_shard::copy_state(bool all) {
  for (const auto& id : idle_keys(users_.all(), stream_time_ms_, bounds_))
    forget(id);
  pipeline::store_snapshot out;
  // Into the nodes of earlier copies where there are some: their memory is
  // in place already (see spare_user_nodes.h).
  auto spare = take_spare_user_nodes(all ? users_.all().size() : changed_.size());
  out.users.reserve(all ? users_.all().size() : changed_.size());
  auto copy = [&](const std::string& id) {
    if (spare.empty()) {
      out.users.emplace(id, users_.at(id));  // ~4 KiB per user
    } else {
      auto node = std::move(spare.back());
      spare.pop_back();
      node.key() = id;
      node.mapped() = users_.at(id);
      out.users.insert(std::move(node));
    }
    if (auto owner = partitions_.find(id); owner != partitions_.end())
      out.user_partitions.emplace(id, owner->second);
  };
  if (all) {
    for (const auto& [id, state] : users_.all())
      copy(id);
  } else {
    for (const auto& id : changed_)
      copy(id);
  }
  changed_.clear();
  if (!spare.empty())  // fewer users than nodes taken (some were forgotten): kept for later
    give_spare_user_nodes(std::move(spare));
  out.removed_users = std::move(removed_);
  removed_.clear();
  return out;
}

void user_shard::install(pipeline::store_snapshot&& restored) {
  for (auto& [id, state] : restored.users) {
    changed_.erase(id);
    removed_.erase(id);
    users_[id] = std::move(state);
    auto owner = restored.partition_of_user(id);
    if (owner == pipeline::no_partition) {
      partitions_.erase(id);
      http_users_.touch(id);
    } else {
      partitions_[id] = owner;
      http_users_.erase(id);
    }
  }
}

std::size_t user_shard::drop_partitions(const std::vector<std::int32_t>& partitions) {
  std::size_t dropped = 0;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (std::find(partitions.begin(), partitions.end(), it->second) == partitions.end()) {
      ++it;
      continue;
    }
    users_.erase(it->first);
    changed_.erase(it->first);
    removed_.erase(it->first);
    it = partitions_.erase(it);
    ++dropped;
  }
  return dropped;
}

void merchant_shard::process(work_batch& items, bool update) {
  visit_prefetched(merchants_, items, merchant_of, [&](work_item& item) {
    const auto& id = item.tx.merchant_id;
    const auto t = item.tx.event_time_ms;
    auto* found = merchants_.find(id);
    bool live = pipeline::merchant_features_at(found, item.tx, update, item.features);
    if (!update)
      return;
    auto& state = found ? *found : merchants_[id];
    if (!removed_.empty())  // a key forgotten, then seen again before the checkpoint
      removed_.erase(id);
    if (!pipeline::apply_to_merchant(state, item.tx, lateness_ms_))
      ++late_;
    if (item.label)
      pipeline::hold_label(state, {item.label->known_at_ms, t, item.label->is_fraud});
    changed_.insert(id);
    if (item.position.partition != pipeline::no_partition) {
      http_merchants_.erase(id);
      stream_time_ms_ = std::max(stream_time_ms_, t);
    } else if (!live || http_merchants_.contains(id)) {
      touch_unowned(id);
    }
  });
}

void merchant_shard::apply_label(const std::string& merchant_id, std::int64_t event_time_ms,
                                 bool is_fraud) {
  auto [state, created] = merchants_.try_emplace(merchant_id);
  pipeline::apply_label_to_merchant(*state, event_time_ms, is_fraud);
  changed_.insert(merchant_id);
  removed_.erase(merchant_id);
  if (created || http_merchants_.contains(merchant_id))
    touch_unowned(merchant_id);
}

void merchant_shard::touch_unowned(const std::string& id) {
  http_merchants_.touch_within(id, bounds_.max_http_keys, [this](const std::string& old) { forget(old); });
}

void merchant_shard::forget(const std::string& id) {
  merchants_.erase(id);
  changed_.erase(id);
  http_merchants_.erase(id);
  removed_.insert(id);
  ++forgotten_;
}

pipeline::store_snapshot merchant_shard::copy_state(bool all) {
  for (const auto& id : idle_keys(merchants_.all(), stream_time_ms_, bounds_))
    forget(id);
  pipeline::store_snapshot out;
  if (all) {
    out.merchants = merchants_.all();
  } else {
    for (const auto& id : changed_)
      out.merchants.emplace(id, merchants_.at(id));
  }
  changed_.clear();
  out.removed_merchants = std::move(removed_);
  removed_.clear();
  return out;
}

void merchant_shard::install(pipeline::merchant_map&& restored) {
  for (auto& [id, state] : restored) {
    changed_.erase(id);
    removed_.erase(id);
    merchants_[id] = std::move(state);
  }
}

namespace {

// The parts' items in sequence order. Each part is already in order (the
// shards keep their batch's order), so they merge with one move per item;
// sorting the joined batch moved its 500-byte items many times over (perf:
// 7% of a worker's samples). A part out of order still gets a full sort.
work_batch merge_by_sequence(std::vector<work_batch>& parts) {
  const auto by_sequence = [](const work_item& a, const work_item& b) { return a.sequence < b.sequence; };
  work_batch merged = std::move(parts.front());
  bool sorted = std::is_sorted(merged.begin(), merged.end(), by_sequence);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto& part = parts[i];
    sorted = sorted && std::is_sorted(part.begin(), part.end(), by_sequence);
    work_batch both;
    both.reserve(merged.size() + part.size());
    if (sorted)
      std::merge(std::make_move_iterator(merged.begin()), std::make_move_iterator(merged.end()),
                 std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()),
                 std::back_inserter(both), by_sequence);
    else {
      std::move(merged.begin(), merged.end(), std::back_inserter(both));
      std::move(part.begin(), part.end(), std::back_inserter(both));
    }
    merged = std::move(both);
  }
  if (!sorted)
    std::sort(merged.begin(), merged.end(), by_sequence);
  return merged;
}

} // namespace

std::vector<std::pair<std::uint64_t, work_batch>>
batch_assembler::add(std::uint64_t batch_id, work_batch part) {
  auto& e = pending_[batch_id];
  e.parts.push_back(std::move(part));
  std::vector<std::pair<std::uint64_t, work_batch>> ready;
  for (auto it = pending_.begin(); it != pending_.end() && it->first == next_ &&
                                   static_cast<int>(it->second.parts.size()) == parts_;
       it = pending_.erase(it), ++next_)
    ready.emplace_back(it->first, merge_by_sequence(it->second.parts));
  return ready;
}

int shard_of(const std::string& key, int shards) {
  return static_cast<int>(pipeline::stable_hash(key.data(), key.size()) %
                          static_cast<std::uint64_t>(shards));
}

} // namespace vigil::pipeline
