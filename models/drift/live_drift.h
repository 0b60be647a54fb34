#pragma once
// Drift of live traffic from what the served model was trained on: counts of
// every feature and of the score in the bins of the model's reference
// profile, over event-time windows (the last hour, day, 7 days and 30 days),
// and the population stability index of each against the reference.
// Thread-safe: every scorer adds its batches; readers take reports. Plain
// C++, no CAF.

#include "models/drift/distribution_profile.h"
#include "models/serving/decision_record.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vigil::models {

/// One variable (a feature, or the score) over one window.
struct variable_drift {
  std::string name;
  double psi = 0;                  ///< over the bins and the missing share together
  double missing_share = 0;        ///< live
  double reference_missing_share = 0;
  std::vector<double> shares;      ///< live, per reference bin (of the non-missing values)
  std::vector<double> reference_shares;
  std::vector<double> upper_edges;
};

struct window_drift {
  std::string window;  ///< "1h", "24h", "7d", "30d"
  std::int64_t rows = 0;
  /// The counts span the whole window: tracking began (or the model was
  /// swapped in) at least a window's length of event time ago. A partial
  /// window compares a few hours with weeks of training and is no evidence.
  bool complete = false;
  std::vector<variable_drift> features;  ///< in reference order
  variable_drift score;
  /// The feature with the largest PSI ("" when there are no features).
  const variable_drift* most_drifted() const;
};

struct drift_report {
  int model_version = 0;        ///< 0: nothing scored yet
  /// "node": this node's traffic; "cluster": every node's (drift_view).
  std::string scope = "node";
  unsigned sample_every = 1;    ///< one live decision in this many is counted
  bool has_reference = false;
  std::string status;           ///< "tracking", "no reference", "reference unreadable: ...", "nothing scored yet"
  std::int64_t newest_event_ms = 0;
  std::vector<window_drift> windows;  ///< empty without a reference
};

/// Counts of one event-time bucket: rows, and per variable (features in
/// reference order, then the score) its bins then missing
/// (drift_tracker::counters_per_variable slots each).
struct drift_bucket_counts {
  std::int64_t id = 0;  ///< event_time_ms / the bucket's width
  std::int64_t rows = 0;
  std::vector<std::uint64_t> counts;
};

/// Counts of one model version to share with, or read from, the cluster.
/// As a share (drift_tracker::take_unshared): what was counted since the
/// last take, by 10-minute bucket (each also belongs to its day), and, in
/// `day_buckets`, events older than a day counted directly in their day.
/// As cluster totals (drift_tracker::report_of): every 10-minute bucket of
/// the last day, and every day bucket with all of its events.
struct drift_counts {
  int model_version = 0;
  std::int64_t oldest_event_ms = 0, newest_event_ms = 0;
  std::size_t counters = 0;  ///< per bucket: variables x counters_per_variable
  std::vector<drift_bucket_counts> minute_buckets, day_buckets;
  bool empty() const { return minute_buckets.empty() && day_buckets.empty(); }
};

/// Adds a share to cluster totals of its version (what the cluster's store
/// does): a 10-minute bucket's counts go to it and to its day, a day
/// bucket's to its day; event times widen to cover the share's.
void add_share(drift_counts& totals, const drift_counts& share);

/// PSI of a live distribution against its reference, the missing share
/// counted as one more bin on both sides.
double drift_psi(const distribution_profile& reference, const std::vector<double>& live_shares,
                 double live_missing_share);

/// The windows a report holds, shortest first.
const std::vector<std::string>& drift_windows();

class drift_tracker {
 public:
  /// Event time is kept in 10-minute buckets for a day (the 1 h and 24 h
  /// windows) and in UTC-day buckets for 31 days (7 d: the newest 7 days,
  /// 30 d: the newest 30); about 0.5 MB. Every `sample_every`-th live
  /// decision is counted (8: what keeps the scorer within 3% of its speed
  /// without tracking, vigil_drift_bench); windows report the rows counted.
  /// With `shares_counts`, what is counted is also kept aside until
  /// take_unshared() (a cluster node: about 0.5 MB more, and nothing more
  /// per decision: what is new is found by comparing at the take).
  explicit drift_tracker(unsigned sample_every = 8, bool shares_counts = false);

  static constexpr std::size_t counters_per_variable = 17;  ///< up to 16 bins, then missing
  static constexpr std::int64_t minute_bucket_ms = 10 * 60'000;
  static constexpr std::int64_t day_bucket_ms = 24 * 3600'000;

  /// Counts the decisions `model` made (shadow decisions are not live
  /// traffic and are skipped). A model other than the one counted so far
  /// starts the counts over in its own reference's bins; a model without a
  /// reference is reported as such. Events older than the oldest bucket
  /// are not counted.
  void add(const decision_batch& decisions, const scoring_model& model);
  drift_report report() const;
  /// What was counted since the last take, oldest model version first
  /// (a model swap leaves its predecessor's last counts here too); empty
  /// unless constructed with `shares_counts`.
  std::vector<drift_counts> take_unshared();
  /// The report of `totals` (the cluster's counts) in the bins of the model
  /// this tracker counts for; nullopt when `totals` are of another version
  /// or this tracker has no reference.
  std::optional<drift_report> report_of(const drift_counts& totals) const;
  /// The model version counted for (0: none yet), and the counters per
  /// bucket in its reference's bins (0: no reference).
  int model_version() const;
  std::size_t counters() const;

 private:
  /// Up to 15 upper edges, padded with +inf to 16: the bin of v is the
  /// number of edges below it, counted without branches.
  static constexpr std::size_t max_edges = 15;
  static constexpr std::size_t slots = max_edges + 2;  ///< bins, then missing
  static_assert(slots == counters_per_variable);
  struct variable_bins {
    std::array<float, max_edges + 1> edges;
    std::size_t feature_index = 0;  ///< in the scored vector (the score: unused)
  };
  struct bucket {
    std::int64_t id = -1;  ///< event_time_ms / bucket_ms
    std::vector<std::uint32_t> counts;  ///< variables x slots
    std::int64_t rows = 0;
    /// What of `counts` was shared, or came from shared buckets (a
    /// 10-minute bucket joining its day): sharing trackers only.
    std::vector<std::uint32_t> shared;
    std::int64_t shared_rows = 0;
    /// `counts` - `shared`, when not empty.
    std::optional<drift_bucket_counts> unshared() const;
  };
  /// Buckets of one width, indexed by id modulo their number.
  struct ring {
    std::int64_t bucket_ms = 0;
    std::vector<bucket> buckets;
    std::int64_t newest_id = -1;
    /// The bucket the last event went to, and its event-time range: most
    /// events of a batch fall in it, found without a division.
    bucket* last = nullptr;
    std::int64_t last_from_ms = 0, last_to_ms = 0;
    /// The bucket of `event_ms`, emptied if it held an older id (whose
    /// counts are first added to `fold_into`, when given); null when the
    /// event is older than every bucket kept.
    bucket* bucket_for(std::int64_t event_ms, std::size_t counters, ring* fold_into = nullptr);
    /// Where a reused bucket's unshared counts go (sharing trackers only).
    std::vector<drift_bucket_counts>* retired_unshared = nullptr;
  };

  void reset(const scoring_model& model);
  /// Moves every bucket's unshared counts (and the retired ones) into
  /// `pending_shares_`.
  void set_aside_unshared();
  /// The windows a report holds: over the 10-minute buckets or the days,
  /// this many of the newest, spanning this much event time.
  struct window_spec {
    const char* name;
    bool days;
    std::int64_t buckets, span_ms;
  };
  static const std::vector<window_spec>& window_specs();
  window_drift window(const window_spec& spec) const;
  /// A window's drift from its summed counts (variables x slots).
  window_drift window_of(const window_spec& spec, std::int64_t rows, bool complete,
                         const std::vector<std::uint64_t>& totals) const;
  drift_report report_header() const;

  mutable std::mutex mutex_;
  int version_ = 0;
  std::shared_ptr<const reference_profile> reference_;
  std::string reference_problem_;
  std::vector<variable_bins> variables_;  ///< features in reference order, then the score
  /// An event is counted once, in its 10-minute bucket (or, older than a
  /// day, in its day bucket); a 10-minute bucket joins its day's when it is
  /// reused, and the day windows add the 10-minute buckets not yet joined.
  ring minutes_, days_;
  std::int64_t oldest_event_ms_ = 0, newest_event_ms_ = 0;  ///< counted since the reset
  bool counted_any_ = false;
  unsigned sample_every_ = 1, sample_phase_ = 0;
  std::int64_t newest_day_end_ms_ = std::numeric_limits<std::int64_t>::min();  ///< end of days_.newest_id
  std::vector<std::uint8_t> slots_of_;  ///< scratch: one decision's slot per variable
  bool shares_counts_ = false;
  std::vector<drift_bucket_counts> retired_minutes_, retired_days_;
  std::vector<drift_counts> pending_shares_;
};

nlohmann::json to_json(const drift_report& r);

} // namespace vigil::models
