#pragma once
// What the HTTP layer needs from a running node. Implemented by the node
// (actors/node), faked in HTTP tests. Every method may throw http_error.

#include "config/runtime_config.h"
#include "pipeline/schema/label_event.h"
#include "pipeline/schema/transaction.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace vigil::http {

class node_api {
 public:
  virtual ~node_api() = default;
  /// One JSON decision per transaction, in order (features and latency
  /// included). `update` also folds each transaction into stream state;
  /// `explain` computes reasons for approved decisions too (flagged ones
  /// always get them).
  virtual std::vector<nlohmann::json> predict(const std::vector<pipeline::transaction>& txs,
                                              bool update, bool explain) = 0;
  /// Stores labels durably and forwards them to retraining. Returns
  /// {"accepted": n, "unknown_transaction_ids": [...]}.
  virtual nlohmann::json feedback(const std::vector<pipeline::label_event>& labels) = 0;
  /// {"version": n, "config": {...}, "history": [...]}
  virtual nlohmann::json config() = 0;
  virtual std::vector<config::config_error> update_config(const nlohmann::json& patch) = 0;
  virtual std::vector<config::config_error> rollback_config(int version) = 0;
  virtual nlohmann::json models() = 0;
  /// Moves a model to production and hot-swaps it into every scorer.
  virtual nlohmann::json promote(int version) = 0;
  /// Starts a retraining run now; returns its status.
  virtual nlohmann::json retrain() = 0;
  /// {"ready": bool, "checks": {...}}
  virtual nlohmann::json readiness() = 0;
  virtual std::string metrics_text() = 0;
  /// The bearer token mutating endpoints require.
  virtual std::string auth_token() = 0;
};

} // namespace vigil::http
