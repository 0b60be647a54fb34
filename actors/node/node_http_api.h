#pragma once
// The HTTP API served by a node: implements http::node_api over the node's
// actors (the /predict gateway, retrain coordinator) and registry. Nothing
// here blocks the calling I/O thread: actor requests are asynchronous, and
// slow work (durable label writes, model loads) runs on the expensive lane.

#include "actors/node/node_internals.h"
#include "actors/pipeline/actor_interfaces.h"
#include "http/node_api.h"
#include "models/evaluation/log_backtest.h"

#include <memory>

namespace vigil::actors {

class node_http_api final : public http::node_api {
 public:
  node_http_api(vigil_node& node, predict_gateway_actor gateway, std::shared_ptr<http::expensive_lane> lane)
    : node_(node), d_(node.internals()), gateway_(std::move(gateway)), lane_(std::move(lane)),
      max_event_time_skew_ms_(d_.history.current().config.max_event_time_skew_ms) {}

  void predict(http::predict_call call, http::decisions_continuation done) override;
  void feedback(std::vector<pipeline::label_event> labels, http::json_continuation done) override;
  void models(http::json_continuation done) override;
  void promote(int version, http::json_continuation done) override;
  void retrain(http::json_continuation done) override;
  nlohmann::json config() override;
  std::vector<config::config_error> update_config(const nlohmann::json& patch) override;
  std::vector<config::config_error> rollback_config(int version) override;
  void readiness(http::json_continuation done) override;
  std::string metrics_text() override;
  void cluster(http::json_continuation done) override;
  std::string auth_token() override;
  std::int64_t max_event_time_skew_ms() override;
  http::expensive_lane* lane() override { return lane_.get(); }
  // The console's (node_console_api.cpp).
  nlohmann::json review_list(const http::review_query& query) override;
  std::optional<nlohmann::json> review_item(const std::string& transaction_id) override;
  nlohmann::json metrics_history() override;
  void model_artifact(int version, const std::string& name, http::text_continuation done) override;
  void backtest(http::backtest_call call, http::json_continuation done) override;

 private:
  vigil_node& node_;
  vigil_node::impl& d_;
  /// Runs `work` on the expensive lane, or answers `overloaded` when the
  /// lane admits no more requests.
  void on_lane(http::json_continuation done, std::function<void(http::json_continuation&)> work);
  /// Scores through this node's gateway (the share of a call whose users'
  /// partitions it reads, or all of it outside a cluster).
  void predict_here(http::predict_call call, http::decisions_continuation done);
  /// Reads the log and runs the backtest (on the backtest thread).
  void outcome_of_backtest(const models::log_backtest_request& request, const config::runtime_config& cfg,
                           std::size_t rows, const http::json_continuation& done);

  predict_gateway_actor gateway_;
  std::shared_ptr<http::expensive_lane> lane_;
  /// Restart-only: read once, so /predict takes no config lock for it.
  const std::int64_t max_event_time_skew_ms_;
};

} // namespace vigil::actors
