#include "pipeline/cluster/merchant_request_queue.h"

#include "pipeline/cluster/merchant_placement.h"

namespace vigil::cluster {

merchant_request_queue::completed merchant_request_queue::add_batch(std::uint64_t id, pipeline::work_batch batch) {
  if (batch.empty())
    return {{id, std::move(batch)}};
  for (std::uint32_t i = 0; i < batch.size(); ++i)
    lanes_[merchant_shard_of(batch[i].tx.merchant_id)].queue.push_back({id, i, std::nullopt});
  queued_ += batch.size();
  auto& waiting = batches_[id];
  waiting.remaining = batch.size();
  waiting.items = std::move(batch);
  return {};
}

void merchant_request_queue::add_label(const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud) {
  merchant_update u;
  u.what = merchant_update::kind::label;
  u.merchant_id = merchant_id;
  u.event_time_ms = event_time_ms;
  u.label = pipeline::travelling_label{0, is_fraud};
  lanes_[merchant_shard_of(merchant_id)].queue.push_back({0, 0, std::move(u)});
  ++queued_;
}

std::vector<int> merchant_request_queue::sendable() const {
  std::vector<int> out;
  for (const auto& [shard, l] : lanes_)
    if (l.in_flight == 0 && !l.queue.empty())
      out.push_back(shard);
  return out;
}

bool merchant_request_queue::in_flight(int shard) const {
  auto it = lanes_.find(shard);
  return it != lanes_.end() && it->second.in_flight > 0;
}

std::string merchant_request_queue::take_request(int shard) {
  auto& l = lanes_[shard];
  l.in_flight = std::min(l.queue.size(), max_per_request_);
  std::vector<merchant_update> updates;
  updates.reserve(l.in_flight);
  for (std::size_t i = 0; i < l.in_flight; ++i) {
    const auto& e = l.queue[i];
    updates.push_back(e.label ? *e.label : merchant_update_of(batches_.at(e.batch_id).items[e.index], true));
  }
  return encode_merchant_updates(updates);
}

std::optional<merchant_request_queue::completed> merchant_request_queue::answered(int shard,
                                                                                   const std::vector<float>& features) {
  auto& l = lanes_[shard];
  std::size_t records = 0;
  for (std::size_t i = 0; i < l.in_flight; ++i)
    records += l.queue[i].label ? 0 : 1;
  if (l.in_flight == 0 || features.size() != records * merchant_feature_count)
    return std::nullopt;
  completed done;
  const float* at = features.data();
  for (std::size_t i = 0; i < l.in_flight; ++i) {
    const auto& e = l.queue[i];
    if (e.label)
      continue;
    auto it = batches_.find(e.batch_id);
    take_merchant_features(at, it->second.items[e.index].features);
    at += merchant_feature_count;
    if (--it->second.remaining == 0) {
      done.emplace_back(it->first, std::move(it->second.items));
      batches_.erase(it);
    }
  }
  l.queue.erase(l.queue.begin(), l.queue.begin() + static_cast<std::ptrdiff_t>(l.in_flight));
  queued_ -= l.in_flight;
  l.in_flight = 0;
  return done;
}

void merchant_request_queue::failed(int shard) { lanes_[shard].in_flight = 0; }

} // namespace vigil::cluster
