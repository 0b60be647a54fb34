#include "pipeline/features/feature_store.h"

namespace vigil::pipeline {

feature_vector feature_store::features(const transaction& tx, bool update) {
  static const user_state empty_user{};
  static const merchant_state empty_merchant{};
  feature_vector out{};
  fill_transaction_features(tx, out);
  auto user = users_.find(tx.user_id);
  auto merchant = merchants_.find(tx.merchant_id);
  fill_user_features(user == users_.end() ? empty_user : user->second, tx, out);
  fill_merchant_features(merchant == merchants_.end() ? empty_merchant : merchant->second, tx, out);
  if (update) {
    bool user_applied = apply_to_user(users_[tx.user_id], tx, allowed_lateness_ms_);
    bool merchant_applied = apply_to_merchant(merchants_[tx.merchant_id], tx, allowed_lateness_ms_);
    late_records_ += (user_applied && merchant_applied) ? 0 : 1;
  }
  return out;
}

void feature_store::apply_label(const std::string& merchant_id,
                                std::int64_t event_time_ms, bool is_fraud) {
  apply_label_to_merchant(merchants_[merchant_id], event_time_ms, is_fraud);
}

} // namespace vigil::pipeline
