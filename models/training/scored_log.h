#pragma once
// What the model saw, kept so that labels join against exactly the scored
// feature vector (no recomputation, no skew), and the labelled rows that
// retraining learns from. Both are bounded.

#include "models/serving/decision_record.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/label_event.h"

#include <deque>
#include <optional>
#include <unordered_map>

namespace vigil::models {

struct scored_entry {
  pipeline::feature_vector features{};
  std::string merchant_id;
  std::string user_id;
  std::int64_t event_time_ms = 0;
  bool flagged = false;   ///< decided review or decline
  bool labelled = false;  ///< a label joined it before (join: before this one)
  /// The shadow's decision of it: 1 review or decline, 0 approve, -1 none.
  std::int8_t shadow_flagged = -1;
};

class scored_log {
 public:
  /// Keeps the newest `max_scored` decisions and `max_labelled` rows.
  scored_log(std::size_t max_scored, std::size_t max_labelled)
    : max_scored_(max_scored), max_labelled_(max_labelled) {}

  void record(const decision_record& d);
  /// A shadow decision (d.shadow) of a transaction recorded before: kept
  /// beside it, so a label can score the shadow too. Unknown ids are ignored.
  void record_shadow(const decision_record& d);
  /// Joins a label with its scored vector. Returns the entry, or nullopt for
  /// an unknown (or evicted) transaction id. A transaction labelled again (a
  /// retried /feedback, or a correction) keeps one labelled row, holding the
  /// newest label; the entry returned then says `labelled`.
  std::optional<scored_entry> join(const pipeline::label_event& label);

  /// Labelled rows sorted by event time, ready for training.
  pipeline::feature_table labelled_rows() const;
  std::size_t labelled() const { return labelled_.size(); }
  std::size_t scored() const { return index_.size(); }

 private:
  struct labelled_row {
    scored_entry entry;
    std::string transaction_id;
    bool is_fraud;
  };
  std::size_t max_scored_, max_labelled_;
  std::unordered_map<std::string, scored_entry> index_;
  std::deque<std::string> order_;  ///< insertion order, for eviction
  std::deque<labelled_row> labelled_;
  std::unordered_map<std::string, std::uint64_t> labelled_at_;  ///< transaction -> number of its row
  std::uint64_t labelled_front_ = 0;  ///< number of labelled_.front()
};

} // namespace vigil::models
