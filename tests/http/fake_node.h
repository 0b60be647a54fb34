#pragma once
// A node_api that records what the router asked for and answers like a
// healthy node, plus request helpers: the router's tests share them.

#include "http/api_router.h"
#include "http/http_errors.h"

#include <nlohmann/json.hpp>

namespace vigil::http::testing {

using json = nlohmann::json;


// Records what the router asked for; answers like a healthy node.
class fake_node final : public node_api {
 public:
  std::vector<pipeline::transaction> predicted;
  bool last_update = false;
  std::vector<pipeline::label_event> labels;
  json last_patch;

  bool last_explain = false;
  bool last_expensive = false;
  void predict(predict_call call, decisions_continuation done) override {
    predicted = call.transactions;
    last_update = call.update;
    last_explain = call.explain;
    last_expensive = call.expensive;
    std::vector<std::string> out;
    for (const auto& tx : call.transactions)
      out.push_back(json{{"transaction_id", tx.transaction_id}, {"probability", 0.1}}.dump());
    done(std::move(out));
  }
  void feedback(std::vector<pipeline::label_event> l, json_continuation done) override {
    labels = l;
    done(json{{"accepted", l.size()}});
  }
  json config() override {
    return {{"version", 1}, {"config", {{"snapshot_path", "/var/lib/vigil/state"}, {"replay_path", "/data/history.jsonl"}, {"redis", ""}, {"batch_size", 256}}}};
  }
  std::vector<config::config_error> update_config(const json& patch) override {
    last_patch = patch;
    if (patch.contains("batch_size"))
      return {{"batch_size", "must be in [1, 65536]"}};
    return {};
  }
  std::vector<config::config_error> rollback_config(int) override { return {}; }
  void models(json_continuation done) override { done(json{{"models", json::array()}}); }
  void promote(int version, json_continuation done) override {
    if (version == 9)
      return done(vigil_error(vigil_errc::not_found, "no model version 9"));
    done(json{{"promoted", version}});
  }
  void retrain(json_continuation done) override { done(json{{"status", "started"}}); }
  void readiness(json_continuation done) override {
    done(json{{"ready", false}, {"checks", {{"kafka", false}}}});
  }
  std::string metrics_text() override { return "vigil_records_in_total 3\n"; }
  /// What GET /cluster answers; null: the default (not clustered).
  json cluster_view;
  void cluster(json_continuation done) override {
    if (cluster_view.is_null())
      return node_api::cluster(std::move(done));
    done(cluster_view);
  }
  std::string auth_token() override { return "secret-token"; }

  review_query last_review;
  json review_list(const review_query& q) override {
    last_review = q;
    return {{"items", json::array()}, {"matching", 0}};
  }
  std::optional<json> review_item(const std::string& id) override {
    if (id != "t1")
      return std::nullopt;
    return json{{"item", {{"transaction_id", id}}}};
  }
  json metrics_history() override { return {{"samples", json::array()}}; }
  void model_artifact(int version, const std::string& name, text_continuation done) override {
    done("<svg>" + std::to_string(version) + name + "</svg>");
  }
  backtest_call last_backtest;
  void backtest(backtest_call call, json_continuation done) override {
    last_backtest = call;
    done(json{{"rows", call.rows}});
  }
};

inline const char* valid_tx = R"({"transaction_id":"t1","user_id":"u1","amount":10.5,"currency":"EUR",
  "merchant":{"id":"m1","category":"grocery"},"timestamp":"2024-03-01T10:00:00Z",
  "location":{"country":"DE"}})";

inline http_request req(const std::string& method, const std::string& target, std::string body = "",
                 std::string auth = "") {
  http_request r;
  r.method = method;
  split_target(target, r.path, r.query);
  r.body = std::move(body);
  r.authorization = std::move(auth);
  r.content_type = "application/json";
  return r;
}

inline json body_of(const http_response& r) { return json::parse(r.body); }

} // namespace vigil::http::testing
