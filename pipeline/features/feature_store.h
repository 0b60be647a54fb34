#pragma once
// All per-key state of one process (or one shard), with the single entry
// point that turns a transaction into the feature vector the model sees.

#include "pipeline/features/feature_extractor.h"

#include <string>
#include <unordered_map>

namespace vigil::pipeline {

class feature_store {
 public:
  explicit feature_store(std::int64_t allowed_lateness_ms = default_allowed_lateness_ms)
    : allowed_lateness_ms_(allowed_lateness_ms) {}

  /// Features of `tx` from state as it was before it; when `update`, then
  /// folds `tx` into the user's and merchant's state.
  feature_vector features(const transaction& tx, bool update);

  /// A label arrives for a transaction of `merchant_id` at `event_time_ms`
  /// (merchant state only).
  void apply_label(const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud);
  /// A label arrives for a transaction of this user at this merchant.
  void apply_label(const std::string& user_id, const std::string& merchant_id, std::int64_t event_time_ms,
                   bool is_fraud);
  /// `tx`'s label, which its user and its merchant take in once a
  /// transaction at or after `known_at_ms` is scored (see hold_label in
  /// feature_extractor.h). `tx` must have been folded into state.
  void hold_label(const transaction& tx, std::int64_t known_at_ms, bool is_fraud);

  const user_map& users() const { return users_; }
  const merchant_map& merchants() const { return merchants_; }
  user_map& users() { return users_; }
  merchant_map& merchants() { return merchants_; }
  /// Records not applied because they were later than the allowed lateness.
  std::uint64_t late_records() const { return late_records_; }

 private:
  std::int64_t allowed_lateness_ms_;
  user_map users_;
  merchant_map merchants_;
  std::uint64_t late_records_ = 0;
};

} // namespace vigil::pipeline
