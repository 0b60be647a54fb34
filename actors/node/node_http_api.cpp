#include "actors/node/node_http_api.h"

#include "actors/kafka/kafka_config.h"
#include "actors/kafka/redis_snapshot_store.h"
#include "actors/pipeline/decision_json.h"
#include "actors/pipeline/shard_logic.h"
#include "actors/pipeline/vigil_atoms.h"
#include "http/http_errors.h"
#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

constexpr auto actor_timeout = std::chrono::seconds(5);

// One synchronous request; an actor failure or timeout is a 503.
template <class Result, class... Ts>
Result ask(caf::scoped_actor& self, const caf::actor& dest, Ts&&... xs) {
  Result out{};
  self->request(dest, actor_timeout, std::forward<Ts>(xs)...)
    .receive([&](Result r) { out = std::move(r); },
             [&](caf::error& e) {
               throw http::http_error(503, "pipeline unavailable: " + caf::to_string(e));
             });
  return out;
}

} // namespace

std::vector<nlohmann::json> node_http_api::predict(const std::vector<pipeline::transaction>& txs,
                                                   bool update, bool explain) {
  const auto& p = d_.pipeline;
  caf::scoped_actor self{d_.system};
  std::vector<nlohmann::json> out;
  for (const auto& tx : txs) {
    auto start = steady_now_ns();
    auto batch = std::make_shared<work_batch>(1);
    batch->front().tx = tx;
    batch->front().ingest_ns = start;
    // The same shards as the stream, so the same state and functions.
    auto user = p.user_shards[shard_of(tx.user_id, static_cast<int>(p.user_shards.size()))];
    auto merchant = p.merchant_shards[shard_of(tx.merchant_id, static_cast<int>(p.merchant_shards.size()))];
    batch = ask<batch_ptr>(self, user, predict_atom::value, batch, update);
    batch = ask<batch_ptr>(self, merchant, predict_atom::value, batch, update);
    auto scorer = p.scorers[next_scorer_++ % p.scorers.size()];
    auto decisions = ask<decision_batch_ptr>(self, scorer, predict_atom::value, batch, explain);
    auto& d = decisions->front();
    d.latency_us = (steady_now_ns() - start) / 1000;
    if (update)  // scored state changed: log it so labels can join
      caf::anon_send(d_.coordinator, decisions_atom::value, std::uint64_t{0}, decisions);
    out.push_back(decision_to_json(d, true));
  }
  return out;
}

nlohmann::json node_http_api::feedback(const std::vector<pipeline::label_event>& labels) {
  try {
    d_.labels->append(labels);  // durable before acknowledged
  } catch (const std::exception& e) {
    throw http::http_error(503, std::string("labels not stored: ") + e.what());
  }
  caf::scoped_actor self{d_.system};
  auto text = ask<std::string>(self, d_.coordinator, label_atom::value,
                               std::make_shared<const std::vector<pipeline::label_event>>(labels));
  return nlohmann::json::parse(text);
}

nlohmann::json node_http_api::config() {
  std::lock_guard<std::mutex> lock(d_.config_mutex);
  const auto& h = d_.history;
  nlohmann::json history = nlohmann::json::array();
  for (const auto& v : h.versions())
    history.push_back({{"version", v.version}, {"source", v.source}});
  auto current = config::to_json(h.current().config);
  current["auth_token"] = "***";
  return {{"version", h.current().version}, {"config", current}, {"history", history},
          {"restart_only_fields", config::restart_only_fields()}};
}

std::vector<config::config_error> node_http_api::update_config(const nlohmann::json& patch) {
  return node_.update_config(patch, "http");
}

std::vector<config::config_error> node_http_api::rollback_config(int version) {
  return node_.rollback_config(version);
}

nlohmann::json node_http_api::models() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : d_.registry.list())
    list.push_back(e.metadata);
  caf::scoped_actor self{d_.system};
  auto status = ask<std::string>(self, d_.coordinator, status_atom::value);
  return {{"models", list}, {"serving_version", static_cast<int>(pipeline::metrics().get_gauge("vigil_model_version", "").value())},
          {"retraining", nlohmann::json::parse(status)}};
}

nlohmann::json node_http_api::promote(int version) {
  if (!d_.registry.find(version))
    throw http::http_error(404, "no model version " + std::to_string(version));
  model_ptr model;
  try {
    model = models::load_scoring_model(d_.registry, version);  // checks before anything changes
  } catch (const std::exception& e) {
    throw http::http_error(422, e.what());
  }
  d_.registry.set_stage(version, models::model_stage::production);
  broadcast_model(d_.pipeline, model);
  caf::anon_send(d_.coordinator, model_atom::value, model);
  return {{"promoted", version}, {"stage", "production"}};
}

nlohmann::json node_http_api::retrain() {
  caf::scoped_actor self{d_.system};
  return nlohmann::json::parse(ask<std::string>(self, d_.coordinator, retrain_atom::value));
}

nlohmann::json node_http_api::readiness() {
  nlohmann::json checks{{"model_loaded", d_.model != nullptr}};
  bool ready = d_.model != nullptr && d_.started;
  std::lock_guard<std::mutex> lock(d_.config_mutex);
  const auto& cfg = d_.history.current().config;
  if (!cfg.brokers.empty()) {
    bool kafka = kafka_reachable(cfg.brokers);
    checks["kafka"] = kafka;
    ready = ready && kafka;
  }
  if (!cfg.redis.empty()) {
    bool redis = redis_snapshot_store::reachable(cfg.redis);
    checks["redis"] = redis;
    ready = ready && redis;
  }
  return {{"ready", ready}, {"checks", checks}};
}

std::string node_http_api::metrics_text() {
  return pipeline::metrics().render();
}

std::string node_http_api::auth_token() {
  std::lock_guard<std::mutex> lock(d_.config_mutex);
  return d_.history.current().config.auth_token;
}

} // namespace vigil::actors
