#pragma once
// What the model saw, kept so that labels join against exactly the scored
// feature vector (no recomputation, no skew), and the labelled rows that
// retraining learns from. Both are bounded.
//
// The scored entries live in a ring in arrival order (the newest
// `max_scored`; a new one takes the oldest's place, reusing its strings'
// memory) with a flat index of (hash, place) beside it. Every decision of
// the stream is recorded here: a map of 500,000 nodes and a queue of ids
// took an allocation, a free and several cache misses per decision, 15% of
// the CAF threads' samples in the streaming bench (`perf`).

#include "models/serving/decision_record.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/label_event.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  /// Keeps the newest `max_scored` decisions (at most 2^31) and
  /// `max_labelled` rows.
  scored_log(std::size_t max_scored, std::size_t max_labelled);

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
  std::size_t scored() const { return size_; }

 private:
  struct labelled_row {
    scored_entry entry;
    std::string transaction_id;
    bool is_fraud;
  };
  struct scored_slot {
    std::string transaction_id;
    scored_entry entry;
  };
  /// A slot of the index: a transaction id's hash and 1 + its place in the
  /// ring (0: an empty slot).
  struct index_slot {
    std::uint64_t hash = 0;
    std::uint32_t place = 0;
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  /// The entry recorded for this id, or null.
  scored_entry* find(std::string_view transaction_id);
  /// The index slot of this id (its hash given), or npos.
  std::size_t slot_of(std::string_view transaction_id, std::uint64_t hash) const;
  void place_in_index(std::uint64_t hash, std::uint32_t place);
  void remove_from_index(std::size_t slot);
  void grow_index();

  /// The ring grows a chunk at a time: no entry ever moves (a doubling
  /// vector would move up to 250,000 of them at once).
  static constexpr std::size_t chunk_slots = 4096;
  scored_slot& at(std::size_t place) { return chunks_[place / chunk_slots][place % chunk_slots]; }
  const scored_slot& at(std::size_t place) const { return chunks_[place / chunk_slots][place % chunk_slots]; }

  std::size_t max_scored_, max_labelled_;
  std::vector<std::unique_ptr<scored_slot[]>> chunks_;  ///< the ring, grown to max_scored_, then wrapping
  std::size_t size_ = 0;    ///< entries in the ring
  std::size_t oldest_ = 0;  ///< once the ring is full: where the next new entry goes
  std::vector<index_slot> index_;  ///< linear probing, a power of two, at most half full
  std::deque<labelled_row> labelled_;
  std::unordered_map<std::string, std::uint64_t> labelled_at_;  ///< transaction -> number of its row
  std::uint64_t labelled_front_ = 0;  ///< number of labelled_.front()
};

} // namespace vigil::models
