#include "pipeline/features/feature_extractor.h"

#include <algorithm>
#include <cmath>

namespace vigil::pipeline {
namespace {

constexpr float missing = std::numeric_limits<float>::quiet_NaN();

void set(feature_vector& out, feature f, double value) {
  out[static_cast<int>(f)] = static_cast<float>(value);
}

std::uint64_t hash_of(const std::string& s) {
  return stable_hash(s.data(), s.size());
}

// Applies a record only when it is within the allowed lateness of the key's
// newest event time; advances that time otherwise.
bool admit(std::int64_t& max_event_time_ms, std::uint64_t& late_records,
           std::int64_t t_ms, std::int64_t allowed_lateness_ms) {
  if (max_event_time_ms != std::numeric_limits<std::int64_t>::min() &&
      t_ms < max_event_time_ms - allowed_lateness_ms) {
    ++late_records;
    return false;
  }
  max_event_time_ms = std::max(max_event_time_ms, t_ms);
  return true;
}

} // namespace

const std::vector<std::string>& known_categories() {
  static const std::vector<std::string> categories = {
    "grocery", "restaurant", "fuel", "retail", "electronics", "travel",
    "entertainment", "health", "utilities", "gift_cards", "digital_goods",
    "jewelry", "money_transfer", "gambling", "other"};
  return categories;
}

int category_index(const std::string& category) {
  const auto& all = known_categories();
  auto it = std::find(all.begin(), all.end(), category);
  return it == all.end() ? -1 : static_cast<int>(it - all.begin());
}

double haversine_km(double lat1, double lon1, double lat2, double lon2) {
  constexpr double earth_radius_km = 6371.0088;
  constexpr double rad = M_PI / 180.0;
  double dlat = (lat2 - lat1) * rad;
  double dlon = (lon2 - lon1) * rad;
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(lat1 * rad) * std::cos(lat2 * rad) *
               std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * earth_radius_km * std::asin(std::min(1.0, std::sqrt(a)));
}

void fill_transaction_features(const transaction& tx, feature_vector& out) {
  set(out, feature::amount, tx.amount);
  set(out, feature::log_amount, std::log1p(tx.amount));
  std::int64_t secs = tx.event_time_ms / 1000;
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int hour = static_cast<int>((secs - days * 86400) / 3600);
  int weekday = static_cast<int>(((days % 7) + 7 + 4) % 7); // 1970-01-01 was a Thursday (4)
  set(out, feature::hour_of_day, hour);
  set(out, feature::is_night, hour < 6 ? 1 : 0);
  set(out, feature::is_weekend, (weekday == 0 || weekday == 6) ? 1 : 0);
  double channel = missing;
  if (tx.channel == "pos")
    channel = 0;
  else if (tx.channel == "online")
    channel = 1;
  else if (tx.channel == "atm")
    channel = 2;
  else if (tx.channel == "mobile")
    channel = 3;
  set(out, feature::channel_code, channel);
  int category = category_index(tx.merchant_category);
  set(out, feature::category_code, category < 0 ? missing : category);
}

void fill_user_features(const user_state& s, const transaction& tx,
                        feature_vector& out) {
  const auto t = tx.event_time_ms;
  auto w10m = s.count_10m.totals(t);
  auto w1h = s.amounts_1h.totals(t);
  auto w24h = s.amounts_24h.totals(t);
  auto w7d = s.amounts_7d.totals(t);
  auto w30d = s.amounts_30d.totals(t);
  // The user's own records known to be fraud: a card once confirmed stolen
  // stays risky. Labels count from the time they became known.
  auto labels = s.labels_30d.totals(t);
  set(out, feature::user_frauds_30d, labels.marked);
  set(out, feature::user_labelled_30d, labels.count);
  set(out, feature::user_frauds_7d, s.labels_30d.totals_of_newest(t, 7).marked);
  set(out, feature::user_count_10m, w10m.count);
  set(out, feature::user_count_1h, w1h.count);
  set(out, feature::user_count_24h, w24h.count);
  set(out, feature::user_count_7d, w7d.count);
  set(out, feature::user_count_30d, w30d.count);
  set(out, feature::user_sum_1h, w1h.sum);
  set(out, feature::user_sum_24h, w24h.sum);
  set(out, feature::user_mean_7d, w7d.count ? w7d.mean() : missing);
  set(out, feature::user_mean_30d, w30d.count ? w30d.mean() : missing);
  double std30 = w30d.stddev();
  set(out, feature::user_std_30d, w30d.count >= 2 ? std30 : missing);
  set(out, feature::amount_zscore_30d,
      w30d.count >= 2 ? (tx.amount - w30d.mean()) / std::max(std30, 1.0) : missing);
  set(out, feature::amount_to_mean_30d,
      w30d.count ? tx.amount / std::max(w30d.mean(), 0.01) : missing);
  set(out, feature::amount_to_mean_7d, w7d.count ? tx.amount / std::max(w7d.mean(), 0.01) : missing);
  bool has_last = s.last_time_ms != std::numeric_limits<std::int64_t>::min() &&
                  t >= s.last_time_ms;
  double hours_since = has_last ? (t - s.last_time_ms) / 3'600'000.0 : 0.0;
  set(out, feature::seconds_since_last, has_last ? hours_since * 3600.0 : missing);
  set(out, feature::user_small_count_1h, w1h.marked);

  std::uint32_t merchant_seen = s.merchants.count(hash_of(tx.merchant_id));
  bool has_history = s.records > 0;
  set(out, feature::is_new_merchant, merchant_seen == 0 ? 1 : 0);
  set(out, feature::user_merchant_count, merchant_seen);
  // A record without a country: both country features are missing.
  std::uint32_t country_seen = tx.country.empty() ? 0 : s.countries.count(hash_of(tx.country));
  set(out, feature::is_new_country, tx.country.empty() ? missing : (country_seen == 0 ? 1 : 0));
  std::uint32_t country_total = s.countries.total();
  set(out, feature::country_share,
      has_history && country_total && !tx.country.empty() ? double(country_seen) / country_total : missing);
  set(out, feature::is_new_device,
      tx.device_id.empty() ? missing : (s.devices.count(hash_of(tx.device_id)) == 0 ? 1 : 0));

  bool has_coords = has_last && tx.latitude && tx.longitude &&
                    !std::isnan(s.last_latitude) && !std::isnan(s.last_longitude);
  if (has_coords) {
    double km = haversine_km(s.last_latitude, s.last_longitude, *tx.latitude,
                             *tx.longitude);
    set(out, feature::distance_from_last_km, km);
    // Floor the elapsed time at one minute so a same-minute pair gives a
    // large but finite speed.
    set(out, feature::geo_speed_kmh, km / std::max(hours_since, 1.0 / 60));
  } else {
    set(out, feature::distance_from_last_km, missing);
    set(out, feature::geo_speed_kmh, missing);
  }
}

void fill_merchant_features(const merchant_state& s, const transaction& tx,
                            feature_vector& out) {
  const auto t = tx.event_time_ms;
  auto w1h = s.amounts_1h.totals(t);
  auto w24h = s.amounts_24h.totals(t);
  auto w7d = s.amounts_7d.totals(t);
  auto labels = s.labels_30d.totals(t);
  set(out, feature::merchant_count_1h, w1h.count);
  set(out, feature::merchant_count_24h, w24h.count);
  set(out, feature::merchant_mean_24h, w24h.count ? w24h.mean() : missing);
  set(out, feature::merchant_mean_7d, w7d.count ? w7d.mean() : missing);
  set(out, feature::amount_to_merchant_mean_7d,
      w7d.count ? tx.amount / std::max(w7d.mean(), 0.01) : missing);
  set(out, feature::merchant_burst_ratio,
      w24h.count ? w1h.count / (w24h.count / 24.0) : missing);
  if (s.recent_users_size > 0) {
    // Distinct users among at most 32: counting first occurrences is
    // cheaper than sorting a copy (it was 1.7% of /predict's CPU).
    const auto n = s.recent_users_size;
    std::uint32_t distinct = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      bool seen = false;
      for (std::uint32_t j = 0; j < i; ++j)
        seen |= s.recent_users[j] == s.recent_users[i];
      distinct += seen ? 0 : 1;
    }
    set(out, feature::merchant_user_diversity, double(distinct) / n);
  } else {
    set(out, feature::merchant_user_diversity, missing);
  }
  // Beta(1, 49) prior: a merchant with no labels scores a 2% rate.
  constexpr double prior_fraud = 1.0, prior_total = 50.0;
  set(out, feature::merchant_fraud_rate_30d,
      (labels.marked + prior_fraud) / (labels.count + prior_total));
  set(out, feature::merchant_labelled_30d, labels.count);
  set(out, feature::merchant_frauds_30d, labels.marked);
  // The same labels over the last 7 days of the merchant's records: a burst
  // of fraud shows here long before it moves the 30-day rate.
  auto labels_7d = s.labels_30d.totals_of_newest(t, 7);
  set(out, feature::merchant_frauds_7d, labels_7d.marked);
  set(out, feature::merchant_labelled_7d, labels_7d.count);
  set(out, feature::merchant_fraud_rate_7d, (labels_7d.marked + prior_fraud) / (labels_7d.count + prior_total));
}

bool apply_to_user(user_state& s, const transaction& tx,
                   std::int64_t allowed_lateness_ms) {
  const auto t = tx.event_time_ms;
  if (!admit(s.max_event_time_ms, s.late_records, t, allowed_lateness_ms))
    return false;
  bool small = tx.amount < small_amount;
  s.count_10m.add(t, tx.amount);
  s.amounts_1h.add(t, tx.amount, small);
  s.amounts_24h.add(t, tx.amount);
  s.amounts_7d.add(t, tx.amount);
  s.amounts_30d.add(t, tx.amount);
  s.merchants.touch(hash_of(tx.merchant_id), t);
  if (!tx.country.empty())
    s.countries.touch(hash_of(tx.country), t);
  if (!tx.device_id.empty())
    s.devices.touch(hash_of(tx.device_id), t);
  if (t >= s.last_time_ms) {
    s.last_time_ms = t;
    s.last_latitude = tx.latitude ? *tx.latitude : std::nan("");
    s.last_longitude = tx.longitude ? *tx.longitude : std::nan("");
  }
  ++s.records;
  return true;
}

bool apply_to_merchant(merchant_state& s, const transaction& tx,
                       std::int64_t allowed_lateness_ms) {
  const auto t = tx.event_time_ms;
  if (!admit(s.max_event_time_ms, s.late_records, t, allowed_lateness_ms))
    return false;
  s.amounts_1h.add(t, tx.amount);
  s.amounts_24h.add(t, tx.amount);
  s.amounts_7d.add(t, tx.amount);
  s.recent_users[s.recent_users_next] = hash_of(tx.user_id);
  s.recent_users_next = (s.recent_users_next + 1) % s.recent_users.size();
  s.recent_users_size = std::min<std::uint32_t>(s.recent_users_size + 1, s.recent_users.size());
  ++s.records;
  return true;
}

namespace {

template <class State>
void take_in_label(State& s, std::int64_t event_time_ms, bool is_fraud) {
  s.labels_30d.add(event_time_ms, 0.0, is_fraud);
}

template <class State>
void hold_label_in(State& s, const pending_label& label) {
  auto& held = s.pending_labels;
  auto at = std::upper_bound(held.begin(), held.end(), label.known_at_ms,
                             [](std::int64_t t, const pending_label& l) { return t < l.known_at_ms; });
  held.insert(at, label);
  if (held.size() > max_pending_labels) {
    take_in_label(s, held.front().event_time_ms, held.front().is_fraud);
    held.erase(held.begin());
    ++s.labels_taken_early;
  }
}

template <class State>
bool due_in(const State& s, std::int64_t now_ms) {
  return !s.pending_labels.empty() && s.pending_labels.front().known_at_ms <= now_ms;
}

/// Takes the held labels known by `now_ms` into the label window, leaving
/// them held; returns the end of those labels.
template <class State>
std::vector<pending_label>::const_iterator add_due_to_window(State& s, std::int64_t now_ms) {
  auto end = s.pending_labels.cbegin();
  for (; end != s.pending_labels.cend() && end->known_at_ms <= now_ms; ++end)
    take_in_label(s, end->event_time_ms, end->is_fraud);
  return end;
}

template <class State>
void take_in_due(State& s, std::int64_t now_ms) {
  s.pending_labels.erase(s.pending_labels.cbegin(), add_due_to_window(s, now_ms));
}

template <class State>
void restart_keeping_held(State& s) {
  auto held = std::move(s.pending_labels);
  auto early = s.labels_taken_early;
  s = State{};
  s.pending_labels = std::move(held);
  s.labels_taken_early = early;
}

/// The one shape of "features from a key's state at tx's time", for users
/// and merchants alike (see merchant_features_at).
template <class State, class Fill>
bool features_at(State* s, const transaction& tx, bool update, feature_vector& out, Fill fill) {
  static const State empty{};
  const auto t = tx.event_time_ms;
  if (!s || state_expired(s->max_event_time_ms, t)) {
    fill(empty, tx, out);
    if (update && s) {
      take_in_due(*s, t);  // into the state that expires
      restart_keeping_held(*s);
    }
    return false;
  }
  if (due_in(*s, t)) {
    if (!update) {
      // A read sees the due labels without taking them in: only the label
      // window changes, so that alone is set aside and put back (a copy of
      // the whole state, held labels included, cost more than the read).
      auto kept = s->labels_30d;
      add_due_to_window(*s, t);
      fill(*s, tx, out);
      s->labels_30d = kept;
      return true;
    }
    take_in_due(*s, t);
  }
  fill(*s, tx, out);
  return true;
}

} // namespace

void hold_label(merchant_state& s, const pending_label& label) { hold_label_in(s, label); }
void hold_label(user_state& s, const pending_label& label) { hold_label_in(s, label); }
bool labels_due(const merchant_state& s, std::int64_t now_ms) { return due_in(s, now_ms); }
bool labels_due(const user_state& s, std::int64_t now_ms) { return due_in(s, now_ms); }
void take_in_due_labels(merchant_state& s, std::int64_t now_ms) { take_in_due(s, now_ms); }
void take_in_due_labels(user_state& s, std::int64_t now_ms) { take_in_due(s, now_ms); }
void restart_merchant_state(merchant_state& s) { restart_keeping_held(s); }
void restart_user_state(user_state& s) { restart_keeping_held(s); }

void apply_label_to_user(user_state& s, std::int64_t event_time_ms, bool is_fraud) {
  take_in_label(s, event_time_ms, is_fraud);
}

void apply_label_to_merchant(merchant_state& s, std::int64_t event_time_ms, bool is_fraud) {
  take_in_label(s, event_time_ms, is_fraud);
}

bool merchant_features_at(merchant_state* s, const transaction& tx, bool update, feature_vector& out) {
  return features_at(s, tx, update, out, [](const merchant_state& st, const transaction& t, feature_vector& o) {
    fill_merchant_features(st, t, o);
  });
}

bool user_features_at(user_state* s, const transaction& tx, bool update, feature_vector& out) {
  return features_at(s, tx, update, out, [](const user_state& st, const transaction& t, feature_vector& o) {
    fill_user_features(st, t, o);
  });
}

} // namespace vigil::pipeline
