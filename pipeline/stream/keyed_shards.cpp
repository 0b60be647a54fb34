#include "pipeline/stream/keyed_shards.h"

#include "pipeline/features/recent_set.h"

#include <algorithm>
#include <limits>

namespace vigil::pipeline {

void user_shard::process(work_batch& items, bool update) {
  static const pipeline::user_state empty{};
  for (auto& item : items) {
    pipeline::fill_transaction_features(item.tx, item.features);
    auto it = users_.find(item.tx.user_id);
    pipeline::fill_user_features(it == users_.end() ? empty : it->second, item.tx, item.features);
    if (!update)
      continue;
    if (!pipeline::apply_to_user(users_[item.tx.user_id], item.tx, lateness_ms_))
      ++late_;
    changed_.insert(item.tx.user_id);
    if (item.position.partition != pipeline::no_partition)
      partitions_[item.tx.user_id] = item.position.partition;
  }
}

pipeline::store_snapshot user_shard::copy_state(bool all) {
  pipeline::store_snapshot out;
  auto copy = [&](const std::string& id) {
    out.users.emplace(id, users_.at(id));  // ~4 KiB per user
    if (auto owner = partitions_.find(id); owner != partitions_.end())
      out.user_partitions.emplace(id, owner->second);
  };
  if (all) {
    for (const auto& [id, state] : users_)
      copy(id);
  } else {
    for (const auto& id : changed_)
      copy(id);
  }
  changed_.clear();
  return out;
}

void user_shard::install(pipeline::store_snapshot&& restored) {
  for (auto& [id, state] : restored.users) {
    changed_.erase(id);
    users_[id] = std::move(state);
    auto owner = restored.partition_of_user(id);
    if (owner == pipeline::no_partition)
      partitions_.erase(id);
    else
      partitions_[id] = owner;
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
    it = partitions_.erase(it);
    ++dropped;
  }
  return dropped;
}

void merchant_shard::process(work_batch& items, bool update) {
  static const pipeline::merchant_state empty{};
  for (auto& item : items) {
    auto it = merchants_.find(item.tx.merchant_id);
    pipeline::fill_merchant_features(it == merchants_.end() ? empty : it->second, item.tx,
                                     item.features);
    if (!update)
      continue;
    if (!pipeline::apply_to_merchant(merchants_[item.tx.merchant_id], item.tx, lateness_ms_))
      ++late_;
    changed_.insert(item.tx.merchant_id);
  }
}

void merchant_shard::apply_label(const std::string& merchant_id, std::int64_t event_time_ms,
                                 bool is_fraud) {
  pipeline::apply_label_to_merchant(merchants_[merchant_id], event_time_ms, is_fraud);
  changed_.insert(merchant_id);
}

pipeline::store_snapshot merchant_shard::copy_state(bool all) {
  pipeline::store_snapshot out;
  if (all) {
    out.merchants = merchants_;
  } else {
    for (const auto& id : changed_)
      out.merchants.emplace(id, merchants_.at(id));
  }
  changed_.clear();
  return out;
}

void merchant_shard::install(std::unordered_map<std::string, pipeline::merchant_state>&& restored) {
  for (auto& [id, state] : restored) {
    changed_.erase(id);
    merchants_[id] = std::move(state);
  }
}

std::vector<std::pair<std::uint64_t, work_batch>>
batch_assembler::add(std::uint64_t batch_id, work_batch part) {
  auto& e = pending_[batch_id];
  ++e.received;
  std::move(part.begin(), part.end(), std::back_inserter(e.items));
  std::vector<std::pair<std::uint64_t, work_batch>> ready;
  for (auto it = pending_.begin(); it != pending_.end() && it->first == next_ &&
                                   it->second.received == parts_;
       it = pending_.erase(it), ++next_) {
    auto& items = it->second.items;
    std::sort(items.begin(), items.end(),
              [](const work_item& a, const work_item& b) { return a.sequence < b.sequence; });
    ready.emplace_back(it->first, std::move(items));
  }
  return ready;
}

int shard_of(const std::string& key, int shards) {
  return static_cast<int>(pipeline::stable_hash(key.data(), key.size()) %
                          static_cast<std::uint64_t>(shards));
}

} // namespace vigil::pipeline
