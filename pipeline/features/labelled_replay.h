#pragma once
// Offline replay of a labelled stream through the same feature code the
// live path uses. A label reaches merchant state only once the stream's
// event time has reached its label time (delayed feedback): training,
// batch scoring and a replayed file on a node all go through this one rule.

#include "pipeline/features/feature_store.h"

#include <string>
#include <vector>

namespace vigil::pipeline {

/// Walks a labelled stream in event-time order over one feature_store:
/// each label is held in its merchant's state until the stream reaches its
/// label time, exactly as the stream's merchant shards hold labels that
/// travel with replayed records.
class delayed_label_replay {
 public:
  explicit delayed_label_replay(feature_store& store) : store_(store) {}

  /// The features `record` is scored with (labels known by its time
  /// count); folds it into state and hands its label (if any) to its
  /// merchant to hold. Records must come in event-time order.
  feature_vector next(const labelled_transaction& record);
  std::size_t labels_held() const { return held_; }

 private:
  feature_store& store_;
  std::size_t held_ = 0;
};

/// Sorts records by event time; ties keep input order.
void sort_by_event_time(std::vector<labelled_transaction>& stream);

/// Feature rows for training, in event-time order.
struct feature_table {
  std::vector<float> values;          ///< rows x feature_count, row-major
  std::vector<float> labels;          ///< observed label, 0/1
  std::vector<std::string> patterns;  ///< true pattern, "" when legitimate
  std::vector<std::int64_t> event_times_ms;
  std::vector<std::int64_t> label_times_ms;  ///< when each label became known
  std::vector<std::string> transaction_ids;
  std::vector<std::string> user_ids;  ///< the card of each row (empty when not kept)
  std::size_t rows() const { return labels.size(); }
  const float* row(std::size_t i) const { return values.data() + i * feature_count; }
  /// The listed rows, in the order listed, with every column this table has.
  feature_table select(const std::vector<std::size_t>& rows) const;
  /// Its first `n` rows.
  feature_table first(std::size_t n) const;
};

/// Replays `stream` (sorted by event time here; ties keep input order).
/// Records without a label are skipped for training but still update state.
feature_table replay_for_training(std::vector<labelled_transaction> stream,
                                  feature_store& store);

} // namespace vigil::pipeline
