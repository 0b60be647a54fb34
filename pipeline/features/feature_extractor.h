#pragma once
// The one feature code path. Each function reads state as it was before the
// transaction; the apply_* functions then fold the transaction into state.

#include "pipeline/features/entity_state.h"
#include "pipeline/features/feature_schema.h"
#include "pipeline/schema/transaction.h"

#include <limits>
#include <string>
#include <vector>

namespace vigil::pipeline {

/// Records older than a key's newest event time by more than this are not
/// applied to its state (they are still scored), and are counted as late.
constexpr std::int64_t default_allowed_lateness_ms = 10 * minute_ms;

/// A user or merchant whose newest event is older than this (the longest
/// window, 30 days, plus five) counts as absent: its next transaction is
/// scored and applied as the first of a new key. Training, the stream and
/// /predict all apply this rule, so forgetting idle keys (see
/// user_shard::copy_state) changes no feature.
constexpr std::int64_t state_ttl_ms = 35 * day_ms;

/// True when state last touched at `newest_event_ms` has expired for a
/// transaction at `event_time_ms`.
inline bool state_expired(std::int64_t newest_event_ms, std::int64_t event_time_ms) {
  return newest_event_ms != std::numeric_limits<std::int64_t>::min() &&
         event_time_ms - newest_event_ms > state_ttl_ms;
}

/// Features that depend on the transaction alone.
void fill_transaction_features(const transaction& tx, feature_vector& out);

/// Features from the user's history (state before `tx`).
void fill_user_features(const user_state& s, const transaction& tx,
                        feature_vector& out);

/// Features from the merchant's history (state before `tx`).
void fill_merchant_features(const merchant_state& s, const transaction& tx,
                            feature_vector& out);

/// Folds `tx` into the user's state. Returns false when the record is late
/// beyond `allowed_lateness_ms` and was not applied (it is counted).
bool apply_to_user(user_state& s, const transaction& tx,
                   std::int64_t allowed_lateness_ms = default_allowed_lateness_ms);

/// Folds `tx` into the merchant's state; same lateness rule.
bool apply_to_merchant(merchant_state& s, const transaction& tx,
                       std::int64_t allowed_lateness_ms = default_allowed_lateness_ms);

/// A fraud label for a transaction of this merchant at `event_time_ms`
/// becomes known. Labels older than the 30-day window are ignored.
void apply_label_to_merchant(merchant_state& s, std::int64_t event_time_ms,
                             bool is_fraud);

/// Labels a user or merchant holds back (they travelled with their
/// transactions) and takes in once the stream's event time reaches the time
/// each became known: the one rule for training, batch scoring and the
/// stream. Holds `label` until its known_at_ms; over max_pending_labels,
/// takes the earliest known in at once (counted in labels_taken_early).
void hold_label(merchant_state& s, const pending_label& label);
void hold_label(user_state& s, const pending_label& label);
/// True when a held label is known by `now_ms`.
bool labels_due(const merchant_state& s, std::int64_t now_ms);
bool labels_due(const user_state& s, std::int64_t now_ms);
/// Takes in every held label known by `now_ms`, in the order they became known.
void take_in_due_labels(merchant_state& s, std::int64_t now_ms);
void take_in_due_labels(user_state& s, std::int64_t now_ms);
/// An expired key starts over, keeping the labels it still holds.
void restart_merchant_state(merchant_state& s);
void restart_user_state(user_state& s);
/// A fraud label for one of the user's own transactions becomes known.
void apply_label_to_user(user_state& s, std::int64_t event_time_ms, bool is_fraud);

/// The merchant features of `tx` from `s` (nullptr: none yet) brought to
/// tx's time: held labels known by then count. With `update` they are taken
/// into `s` itself, and an expired `s` starts over, ready for
/// apply_to_merchant; without, `s` is not changed. Returns whether `s` was
/// live (present and not expired). Every path that scores uses this.
bool merchant_features_at(merchant_state* s, const transaction& tx, bool update, feature_vector& out);
/// The same for the user features of `tx` (ready for apply_to_user).
bool user_features_at(user_state* s, const transaction& tx, bool update, feature_vector& out);

/// Great-circle distance in kilometres.
double haversine_km(double lat1, double lon1, double lat2, double lon2);

/// Index of a merchant category in the known list, -1 when unknown.
int category_index(const std::string& category);
/// Known categories, in index order.
const std::vector<std::string>& known_categories();

} // namespace vigil::pipeline
