#include "pipeline/features/feature_store.h"

namespace vigil::pipeline {

feature_vector feature_store::features(const transaction& tx, bool update) {
  static const user_state empty_user{};
  static const merchant_state empty_merchant{};
  feature_vector out{};
  fill_transaction_features(tx, out);
  auto user = users_.find(tx.user_id);
  auto merchant = merchants_.find(tx.merchant_id);
  // Expired state reads as absent, and an update starts it over.
  bool user_live = user != users_.end() && !state_expired(user->second.max_event_time_ms, tx.event_time_ms);
  bool merchant_live =
    merchant != merchants_.end() && !state_expired(merchant->second.max_event_time_ms, tx.event_time_ms);
  fill_user_features(user_live ? user->second : empty_user, tx, out);
  fill_merchant_features(merchant_live ? merchant->second : empty_merchant, tx, out);
  if (update) {
    auto& u = users_[tx.user_id];
    if (!user_live)
      u = user_state{};
    auto& m = merchants_[tx.merchant_id];
    if (!merchant_live)
      m = merchant_state{};
    bool user_applied = apply_to_user(u, tx, allowed_lateness_ms_);
    bool merchant_applied = apply_to_merchant(m, tx, allowed_lateness_ms_);
    late_records_ += (user_applied && merchant_applied) ? 0 : 1;
  }
  return out;
}

void feature_store::apply_label(const std::string& merchant_id,
                                std::int64_t event_time_ms, bool is_fraud) {
  apply_label_to_merchant(merchants_[merchant_id], event_time_ms, is_fraud);
}

} // namespace vigil::pipeline
