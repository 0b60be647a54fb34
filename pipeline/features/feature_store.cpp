#include "pipeline/features/feature_store.h"

namespace vigil::pipeline {

feature_vector feature_store::features(const transaction& tx, bool update) {
  feature_vector out{};
  fill_transaction_features(tx, out);
  // Expired state reads as absent, and an update starts it over; labels
  // known by tx's time count for it.
  auto user = users_.find(tx.user_id);
  auto* found_user = user == users_.end() ? nullptr : &user->second;
  user_features_at(found_user, tx, update, out);
  auto merchant = merchants_.find(tx.merchant_id);
  auto* found_merchant = merchant == merchants_.end() ? nullptr : &merchant->second;
  merchant_features_at(found_merchant, tx, update, out);
  if (update) {
    auto& u = found_user ? *found_user : users_[tx.user_id];
    auto& m = found_merchant ? *found_merchant : merchants_[tx.merchant_id];
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

void feature_store::apply_label(const std::string& user_id, const std::string& merchant_id,
                                std::int64_t event_time_ms, bool is_fraud) {
  apply_label_to_user(users_[user_id], event_time_ms, is_fraud);
  apply_label(merchant_id, event_time_ms, is_fraud);
}

void feature_store::hold_label(const transaction& tx, std::int64_t known_at_ms, bool is_fraud) {
  const pending_label label{known_at_ms, tx.event_time_ms, is_fraud};
  pipeline::hold_label(users_[tx.user_id], label);
  pipeline::hold_label(merchants_[tx.merchant_id], label);
}

} // namespace vigil::pipeline
