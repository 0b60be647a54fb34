#pragma once
// The analyst's review queue: the newest flagged (review or decline)
// decisions this node scored, each with its scored vector, reasons, rule
// hits and the label an analyst (or any /feedback) gave it; and, for the
// users seen most recently, their last few decisions, so an item can be
// shown against its user's typical values. Bounded in items and users.
// Thread-safe: the review listener adds, /feedback labels, GET /review
// reads. Plain C++, no CAF.

#include "models/serving/decision_record.h"
#include "pipeline/schema/label_event.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigil::models {

struct review_limits {
  std::size_t items = 10'000;  ///< flagged decisions kept (the oldest leave first)
  std::size_t users = 16'384;  ///< slots for users' recent decisions (a user displaces the one whose slot it hashes to)
  std::size_t per_user = 8;    ///< decisions kept per user
};

/// What GET /review lists. Empty texts and absent values do not filter.
struct review_filter {
  std::optional<decision_kind> decision;
  double min_score = 0, max_score = 1;  ///< the model's probability, inclusive
  std::string user_id, merchant_id, rule_id;
  std::string status;         ///< "open" (no label yet), "fraud", "legitimate"
  std::uint64_t before = 0;   ///< only items numbered below this (paging); 0 = from the newest
  std::size_t limit = 50;     ///< at most this many items (1..500)
};

class review_queue {
 public:
  explicit review_queue(review_limits limits = {});

  /// One published batch: flagged decisions join the queue, every decision
  /// its user's recent history. Shadow decisions are ignored.
  void add(const decision_batch& batch);
  /// Labels for queued items mark them (the newest label wins). Returns how
  /// many matched.
  std::size_t label(const std::vector<pipeline::label_event>& labels);

  /// {"items": [...newest first], "matching": n (before paging), "queued",
  ///  "capacity", "next_before": number or null}.
  nlohmann::json list(const review_filter& filter) const;
  /// The item with its features against the user's typical values (the
  /// median of the user's other recent decisions) and the user's recent
  /// decisions; nullopt when it is not (or no longer) queued.
  std::optional<nlohmann::json> detail(const std::string& transaction_id) const;

 private:
  struct queued {
    std::uint64_t number = 0;
    decision_record decision;
    std::optional<pipeline::label_event> label;
  };
  struct recent_decision {
    std::string transaction_id, merchant_id;
    std::int64_t event_time_ms = 0;
    double probability = 0;
    decision_kind decision = decision_kind::approve;
    pipeline::feature_vector features{};
  };
  /// A user's last `per_user` decisions in a ring, in a slot of a
  /// direct-mapped table (a user takes the slot its id hashes to, and
  /// displaces whoever had it): the stream passes every decision through
  /// here, so remembering one costs a hash and a copy, never an allocation
  /// once the slot's ring is full.
  struct user_history {
    std::size_t id_hash = 0;
    std::string user_id;  ///< "" while the slot is free
    std::vector<recent_decision> ring;
    std::size_t next = 0;  ///< the slot the next decision takes (the oldest when full)
    /// Oldest first (until the ring is full, `next` is its size).
    template <class F>
    void each(F f) const {
      for (std::size_t i = 0; i < ring.size(); ++i)
        f(ring[(next + i) % ring.size()]);
    }
  };

  void remember(const decision_record& d);
  const queued* find(const std::string& transaction_id) const;
  static bool matches(const queued& q, const review_filter& f);

  review_limits limits_;
  mutable std::mutex mutex_;
  std::deque<queued> items_;  ///< oldest first, numbered consecutively
  std::uint64_t next_number_ = 1;
  std::unordered_map<std::string, std::uint64_t> number_of_;  ///< transaction id -> item number
  std::vector<user_history> users_;  ///< limits_.users slots
};

} // namespace vigil::models
