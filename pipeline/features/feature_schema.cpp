#include "pipeline/features/feature_schema.h"

#include "pipeline/features/recent_set.h"

#include <cstdio>

namespace vigil::pipeline {

const std::array<const char*, feature_count>& feature_names() {
  static const std::array<const char*, feature_count> names = {
    "amount", "log_amount", "hour_of_day", "is_night", "is_weekend",
    "channel_code", "category_code", "user_count_10m", "user_count_1h",
    "user_count_24h", "user_count_7d", "user_count_30d", "user_sum_1h",
    "user_sum_24h", "user_mean_7d", "user_mean_30d", "user_std_30d",
    "amount_zscore_30d", "amount_to_mean_30d", "seconds_since_last",
    "user_small_count_1h", "is_new_merchant", "is_new_country",
    "is_new_device", "country_share", "user_merchant_count",
    "distance_from_last_km", "geo_speed_kmh", "merchant_count_1h",
    "merchant_count_24h", "merchant_mean_24h", "merchant_mean_7d",
    "amount_to_merchant_mean_7d", "merchant_burst_ratio",
    "merchant_user_diversity", "merchant_fraud_rate_30d",
    "merchant_labelled_30d", "merchant_frauds_7d", "merchant_labelled_7d", "merchant_fraud_rate_7d",
    "merchant_frauds_30d", "user_frauds_30d", "user_labelled_30d", "user_frauds_7d",
    "amount_to_mean_7d"};
  return names;
}

std::string feature_schema_hash() {
  // Bump the version when a feature keeps its name but changes meaning.
  std::string text = "vigil-features-v1";
  for (const char* name : feature_names()) {
    text += '|';
    text += name;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(stable_hash(text.data(), text.size())));
  return buf;
}

} // namespace vigil::pipeline
