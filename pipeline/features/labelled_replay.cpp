#include "pipeline/features/labelled_replay.h"

#include <algorithm>
#include <queue>

namespace vigil::pipeline {
namespace {

struct pending_label {
  std::int64_t label_time_ms;
  std::int64_t event_time_ms;
  std::size_t merchant_index;
  bool is_fraud;
  bool operator>(const pending_label& o) const {
    return label_time_ms != o.label_time_ms ? label_time_ms > o.label_time_ms
                                            : merchant_index > o.merchant_index;
  }
};

} // namespace

feature_table replay_for_training(std::vector<labelled_transaction> stream,
                                  feature_store& store) {
  std::stable_sort(stream.begin(), stream.end(), [](const auto& a, const auto& b) {
    return a.tx.event_time_ms < b.tx.event_time_ms;
  });
  feature_table table;
  table.values.reserve(stream.size() * feature_count);
  std::priority_queue<pending_label, std::vector<pending_label>, std::greater<>> labels;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const auto& [tx, label] = stream[i];
    while (!labels.empty() && labels.top().label_time_ms <= tx.event_time_ms) {
      const auto& l = labels.top();
      store.apply_label(stream[l.merchant_index].tx.merchant_id, l.event_time_ms, l.is_fraud);
      labels.pop();
    }
    feature_vector row = store.features(tx, true);
    if (!label)
      continue;
    labels.push({label->label_time_ms, tx.event_time_ms, i, label->is_fraud});
    table.values.insert(table.values.end(), row.begin(), row.end());
    table.labels.push_back(label->is_fraud ? 1.0f : 0.0f);
    table.patterns.push_back(label->pattern);
    table.event_times_ms.push_back(tx.event_time_ms);
    table.transaction_ids.push_back(tx.transaction_id);
  }
  return table;
}

} // namespace vigil::pipeline
