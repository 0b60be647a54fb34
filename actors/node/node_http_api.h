#pragma once
// The HTTP API served by a node: implements http::node_api over the node's
// actors (feature shards, scorers, retrain coordinator) and registry.

#include "actors/node/node_internals.h"
#include "http/node_api.h"

#include <atomic>

namespace vigil::actors {

class node_http_api final : public http::node_api {
 public:
  explicit node_http_api(vigil_node& node) : node_(node), d_(node.internals()) {}

  std::vector<nlohmann::json> predict(const std::vector<pipeline::transaction>& txs,
                                      bool update, bool explain) override;
  nlohmann::json feedback(const std::vector<pipeline::label_event>& labels) override;
  nlohmann::json config() override;
  std::vector<config::config_error> update_config(const nlohmann::json& patch) override;
  std::vector<config::config_error> rollback_config(int version) override;
  nlohmann::json models() override;
  nlohmann::json promote(int version) override;
  nlohmann::json retrain() override;
  nlohmann::json readiness() override;
  std::string metrics_text() override;
  std::string auth_token() override;

 private:
  vigil_node& node_;
  vigil_node::impl& d_;
  std::atomic<std::size_t> next_scorer_{0};
};

} // namespace vigil::actors
