#include "pipeline/features/labelled_replay.h"

#include <algorithm>

namespace vigil::pipeline {

feature_vector delayed_label_replay::next(const labelled_transaction& record) {
  const auto& [tx, label] = record;
  feature_vector row = store_.features(tx, true);
  if (label) {
    store_.hold_label(tx, label->label_time_ms, label->is_fraud);
    ++held_;
  }
  return row;
}

void sort_by_event_time(std::vector<labelled_transaction>& stream) {
  std::stable_sort(stream.begin(), stream.end(), [](const auto& a, const auto& b) {
    return a.tx.event_time_ms < b.tx.event_time_ms;
  });
}

feature_table feature_table::select(const std::vector<std::size_t>& chosen) const {
  feature_table out;
  out.values.reserve(chosen.size() * feature_count);
  // Optional columns (label times, user ids) are copied when this table has them.
  auto copy = [&](const auto& from, auto& to) {
    if (from.empty())
      return;
    to.reserve(chosen.size());
    for (auto i : chosen)
      to.push_back(from[i]);
  };
  for (auto i : chosen)
    out.values.insert(out.values.end(), row(i), row(i) + feature_count);
  copy(labels, out.labels);
  copy(patterns, out.patterns);
  copy(event_times_ms, out.event_times_ms);
  copy(label_times_ms, out.label_times_ms);
  copy(transaction_ids, out.transaction_ids);
  copy(user_ids, out.user_ids);
  return out;
}

feature_table feature_table::first(std::size_t n) const {
  std::vector<std::size_t> chosen(std::min(n, rows()));
  for (std::size_t i = 0; i < chosen.size(); ++i)
    chosen[i] = i;
  return select(chosen);
}

feature_table replay_for_training(std::vector<labelled_transaction> stream,
                                  feature_store& store) {
  sort_by_event_time(stream);
  feature_table table;
  table.values.reserve(stream.size() * feature_count);
  delayed_label_replay replay{store};
  for (const auto& record : stream) {
    feature_vector row = replay.next(record);
    if (!record.label)
      continue;
    table.values.insert(table.values.end(), row.begin(), row.end());
    table.labels.push_back(record.label->is_fraud ? 1.0f : 0.0f);
    table.patterns.push_back(record.label->pattern);
    table.event_times_ms.push_back(record.tx.event_time_ms);
    table.label_times_ms.push_back(record.label->label_time_ms);
    table.transaction_ids.push_back(record.tx.transaction_id);
    table.user_ids.push_back(record.tx.user_id);
  }
  return table;
}

} // namespace vigil::pipeline
