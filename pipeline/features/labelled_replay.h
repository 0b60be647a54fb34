#pragma once
// Offline replay for training: runs a labelled stream through the same
// feature_store the live path uses, releasing each label to the merchant
// state only once its label time has passed (delayed feedback).

#include "pipeline/features/feature_store.h"

#include <string>
#include <vector>

namespace vigil::pipeline {

/// Feature rows for training, in event-time order.
struct feature_table {
  std::vector<float> values;          ///< rows x feature_count, row-major
  std::vector<float> labels;          ///< observed label, 0/1
  std::vector<std::string> patterns;  ///< true pattern, "" when legitimate
  std::vector<std::int64_t> event_times_ms;
  std::vector<std::string> transaction_ids;
  std::size_t rows() const { return labels.size(); }
  const float* row(std::size_t i) const { return values.data() + i * feature_count; }
};

/// Replays `stream` (sorted by event time here; ties keep input order).
/// Records without a label are skipped for training but still update state.
feature_table replay_for_training(std::vector<labelled_transaction> stream,
                                  feature_store& store);

} // namespace vigil::pipeline
