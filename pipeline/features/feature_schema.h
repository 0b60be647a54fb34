#pragma once
// The model's input: one fixed list of named features. Training, streaming
// and /predict all fill it through the functions in feature_extractor.h.

#include <array>
#include <cstdint>
#include <string>

namespace vigil::pipeline {

/// Index of each feature in a feature vector. Append only: the schema hash
/// stored with every model changes when this list changes.
enum class feature : int {
  amount,
  log_amount,
  hour_of_day,            ///< UTC hour, 0..23
  is_night,               ///< UTC hour in [0, 6)
  is_weekend,             ///< UTC Saturday or Sunday
  channel_code,           ///< pos 0, online 1, atm 2, mobile 3, NaN unknown
  category_code,          ///< index in the known category list, NaN unknown
  user_count_10m,
  user_count_1h,
  user_count_24h,
  user_count_7d,
  user_count_30d,
  user_sum_1h,
  user_sum_24h,
  user_mean_7d,
  user_mean_30d,
  user_std_30d,
  amount_zscore_30d,      ///< (amount - mean_30d) / std_30d, NaN with < 2 records
  amount_to_mean_30d,     ///< amount / mean_30d, NaN with no history
  seconds_since_last,     ///< NaN for a user's first (or out-of-order) record
  user_small_count_1h,    ///< records under small_amount in the last hour
  is_new_merchant,
  is_new_country,
  is_new_device,          ///< NaN when the record has no device_id
  country_share,          ///< share of the user's recent records in this country
  user_merchant_count,    ///< user's recent records at this merchant
  distance_from_last_km,  ///< NaN without coordinates on both records
  geo_speed_kmh,          ///< distance / time since last; NaN as above
  merchant_count_1h,
  merchant_count_24h,
  merchant_mean_24h,
  merchant_mean_7d,
  amount_to_merchant_mean_7d,
  merchant_burst_ratio,   ///< count_1h / (count_24h / 24)
  merchant_user_diversity,///< distinct users / records over the merchant's last 32
  merchant_fraud_rate_30d,///< smoothed rate over labels known so far (delayed)
  merchant_labelled_30d,
  merchant_frauds_7d,     ///< fraud labels known, for the merchant's records of the last 7 UTC days
  merchant_labelled_7d,   ///< labels known, same records
  merchant_fraud_rate_7d, ///< smoothed like the 30-day rate
  merchant_frauds_30d,    ///< fraud labels known, last 30 UTC days (a count, not smoothed)
  user_frauds_30d,        ///< the user's own records of the last 30 UTC days known to be fraud
  user_labelled_30d,      ///< the user's own records of the last 30 UTC days with a label known
  user_frauds_7d,         ///< as user_frauds_30d, last 7 UTC days
  amount_to_mean_7d,      ///< amount / the user's 7-day mean, NaN with no 7-day history
  count_                  ///< number of features; not a feature
};

constexpr int feature_count = static_cast<int>(feature::count_);

/// Amounts below this (currency units) count as "small" (card testing probes).
constexpr double small_amount = 5.0;

/// A scored row: exactly what the model sees. NaN means missing.
using feature_vector = std::array<float, feature_count>;

/// Name of each feature, in index order.
const std::array<const char*, feature_count>& feature_names();

/// Stable hash of the feature list and its semantics version; models record it
/// and refuse to load against a different schema.
std::string feature_schema_hash();

} // namespace vigil::pipeline
