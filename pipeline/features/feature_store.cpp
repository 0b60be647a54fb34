#include "pipeline/features/feature_store.h"


namespace vigil::pipeline {

feature_vector feature_store::features(const transaction& tx, bool update) {
  static const user_state empty_user{};
  feature_vector out{};
  fill_transaction_features(tx, out);
  auto user = users_.find(tx.user_id);
  // Expired state reads as absent, and an update starts it over.
  bool user_live = user != users_.end() && !state_expired(user->second.max_event_time_ms, tx.event_time_ms);
  fill_user_features(user_live ? user->second : empty_user, tx, out);
  auto merchant = merchants_.find(tx.merchant_id);
  auto* found = merchant == merchants_.end() ? nullptr : &merchant->second;
  merchant_features_at(found, tx, update, out);
  if (update) {
    auto& u = users_[tx.user_id];
    if (!user_live)
      u = user_state{};
    auto& m = found ? *found : merchants_[tx.merchant_id];
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

void feature_store::hold_label(const std::string& merchant_id, const pending_label& label) {
  pipeline::hold_label(merchants_[merchant_id], label);
}

} // namespace vigil::pipeline
