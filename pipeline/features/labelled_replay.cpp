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
