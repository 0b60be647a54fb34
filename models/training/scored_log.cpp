#include "models/training/scored_log.h"

#include <algorithm>
#include <numeric>

namespace vigil::models {

void scored_log::record(const decision_record& d) {
  auto [it, inserted] = index_.try_emplace(d.transaction_id);
  const bool labelled = it->second.labelled;
  it->second = {d.features, d.merchant_id, d.user_id, d.event_time_ms, d.decision != decision_kind::approve, labelled};
  if (!inserted)
    return;  // a replayed decision: same vector, keep its place
  order_.push_back(d.transaction_id);
  while (order_.size() > max_scored_) {
    index_.erase(order_.front());
    order_.pop_front();
  }
}

void scored_log::record_shadow(const decision_record& d) {
  if (auto it = index_.find(d.transaction_id); it != index_.end())
    it->second.shadow_flagged = d.decision != decision_kind::approve ? 1 : 0;
}

std::optional<scored_entry> scored_log::join(const pipeline::label_event& label) {
  auto it = index_.find(label.transaction_id);
  if (it == index_.end())
    return std::nullopt;
  scored_entry joined = it->second;
  if (auto at = labelled_at_.find(label.transaction_id); at != labelled_at_.end()) {
    labelled_[at->second - labelled_front_].is_fraud = label.is_fraud;  // the newest label counts
    joined.labelled = true;
    return joined;
  }
  labelled_.push_back({it->second, label.transaction_id, label.is_fraud});
  labelled_at_[label.transaction_id] = labelled_front_ + labelled_.size() - 1;
  while (labelled_.size() > max_labelled_) {
    auto at = labelled_at_.find(labelled_.front().transaction_id);
    if (at != labelled_at_.end() && at->second == labelled_front_)
      labelled_at_.erase(at);
    labelled_.pop_front();
    ++labelled_front_;
  }
  it->second.labelled = true;
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
