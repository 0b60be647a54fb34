#include "actors/node/node_http_api.h"

#include "actors/node/async_request.h"
#include "actors/pipeline/actor_errors.h"
#include "pipeline/connectors/cluster_settings.h"
#include "pipeline/connectors/readiness_probe.h"
#include "actors/pipeline/vigil_atoms.h"
#include "http/expensive_lane.h"
#include "models/drift/label_quality.h"
#include "models/drift/drift_view.h"
#include "models/drift/live_drift.h"
#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/schema/transaction_json.h"
#include "models/review/review_queue.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

constexpr auto actor_timeout = std::chrono::milliseconds(5000);

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

// Hands `value` (made JSON by `to_json`) or the error to `done`.
template <class Reply, class ToJson>
std::function<void(caf::expected<Reply>)> reply_as_json(http::json_continuation done, ToJson to_json) {
  return [done = std::move(done), to_json](caf::expected<Reply> r) {
    if (!r)
      return done(to_vigil_error(r.error()));
    done(to_json(*r));
  };
}

nlohmann::json to_json(const retrain_outcome& run) {
  return {{"outcome", run.outcome}, {"trigger", run.trigger}, {"version", run.version},
          {"summary", run.summary}, {"challenger_pr_auc", run.challenger_pr_auc},
          {"champion_pr_auc", run.champion_pr_auc},
          {"finished_at", pipeline::format_iso8601_ms(run.finished_ms)}};
}

nlohmann::json to_json(const retrain_status& s) {
  auto runs = nlohmann::json::array();
  for (const auto& run : s.runs)
    runs.push_back(to_json(run));
  return {{"running", s.running}, {"labelled_rows", s.labelled_rows}, {"scored_logged", s.scored_logged},
          {"labelled_rows_restored", s.labelled_rows_restored}, {"champion_version", s.champion_version},
          {"last_run", s.runs.empty() ? nlohmann::json(nullptr) : runs.back()}, {"runs", runs}};
}

nlohmann::json to_json(const retrain_start& s) {
  nlohmann::json j{{"status", s.status}};
  if (!s.trigger.empty())
    j["trigger"] = s.trigger;
  if (s.status == "not enough labels") {
    j["labelled"] = s.labelled_rows;
    j["needed"] = s.needed;
  } else if (s.status == "started") {
    j["labelled_rows"] = s.labelled_rows;
  }
  return j;
}

} // namespace

void node_http_api::predict(http::predict_call call, http::decisions_continuation done) {
  if (!d_.routes)
    return predict_here(std::move(call), std::move(done));
  auto routes = d_.routes->current();
  if (!routes)
    return done(vigil_error(vigil_errc::pipeline_unavailable,
                            "this node has not learned which node reads which partition yet; retry"));
  route_predict(d_.system, *routes, std::move(call),
                [this, routes](http::predict_call share, http::decisions_continuation answer) {
                  // The routes may be a second old: this node's share is
                  // checked against what its source reads now.
                  auto why = not_read_here(share.transactions, d_.ownership.get(), routes->partitioner, routes->self);
                  if (!why.empty())
                    return answer(vigil_error(vigil_errc::pipeline_unavailable, why));
                  predict_here(std::move(share), std::move(answer));
                },
                std::move(done));
}

void node_http_api::predict_here(http::predict_call call, http::decisions_continuation done) {
  auto job = std::make_shared<http::predict_job>();
  job->transactions = std::move(call.transactions);
  job->update = call.update;
  job->explain = call.explain;
  job->features = call.features;
  job->expensive = call.expensive;
  job->received_ns = steady_now_ns();
  job->done = std::move(done);
  caf::anon_send(gateway_, predict_atom::value, std::move(job));
}

void node_http_api::on_lane(http::json_continuation done, std::function<void(http::json_continuation&)> work) {
  auto ticket = lane_->admit();
  if (!ticket)
    return done(vigil_error(vigil_errc::overloaded, "too many slow requests in progress; retry later"));
  lane_->post([ticket, done = std::move(done), work = std::move(work)]() mutable { work(done); });
}

void node_http_api::feedback(std::vector<pipeline::label_event> labels, http::json_continuation done) {
  // The durable write (an fsync, or a broker acknowledgement) waits on the
  // lane, not on an I/O thread.
  on_lane(std::move(done), [this, labels = std::move(labels)](http::json_continuation& done) mutable {
    try {
      d_.labels->append(labels);  // durable before acknowledged
    } catch (const std::exception& e) {
      return done(vigil_error(vigil_errc::store_unavailable, std::string("labels not stored: ") + e.what()));
    }
    d_.review->label(labels);
    auto batch = std::make_shared<const std::vector<pipeline::label_event>>(std::move(labels));
    async_request<label_receipt>(
      d_.system, d_.coordinator, actor_timeout,
      reply_as_json<label_receipt>(std::move(done), [](const label_receipt& r) {
        return nlohmann::json{{"accepted", r.accepted}, {"joined", r.joined},
                              {"unknown_transaction_ids", r.unknown_transaction_ids}};
      }),
      label_atom::value, label_batch_ptr{batch});
  });
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

void node_http_api::models(http::json_continuation done) {
  async_request<retrain_status>(
    d_.system, d_.coordinator, actor_timeout,
    reply_as_json<retrain_status>(std::move(done), [this](const retrain_status& status) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : d_.registry.list())
        list.push_back(e.metadata);
      // The champion is the model owner's served model; drift is the live
      // traffic's against it, and the labels' verdict on what it decided.
      auto drift = models::to_json(d_.drift_view->report(wall_ms()));
      if (drift["scope"] == "cluster") {  // and what this node counted of it
        auto own = nlohmann::json::object();
        for (const auto& w : d_.drift->report().windows)
          own[w.window] = w.rows;
        drift["this_node_rows"] = own;
      }
      drift["label_weeks"] = models::to_json(d_.label_quality->weeks());
      return nlohmann::json{{"models", list}, {"serving_version", status.champion_version},
                            {"retraining", to_json(status)}, {"drift", drift}};
    }),
    status_atom::value);
}

void node_http_api::promote(int version, http::json_continuation done) {
  // Loading checks the model against XGBoost: seconds for a large forest.
  on_lane(std::move(done), [this, version](http::json_continuation& done) {
    if (!d_.registry.find(version))
      return done(vigil_error(vigil_errc::not_found, "no model version " + std::to_string(version)));
    model_ptr model;
    try {
      model = models::load_scoring_model(d_.registry, version);  // checks before anything changes
    } catch (const std::exception& e) {
      return done(vigil_error(vigil_errc::invalid_field, e.what()));
    }
    // In a cluster every node serves it: shared first, or nothing changes.
    if (d_.shared) {
      try {
        std::lock_guard<std::mutex> lock(d_.config_mutex);
        *d_.settings_version = d_.shared->publish_model(version, d_.node_name + ": promote");
        d_.adopted_model = version;
      } catch (const std::exception& e) {
        return done(vigil_error(vigil_errc::store_unavailable,
                                std::string("not promoted: the cluster's settings could not be stored: ") + e.what()));
      }
    }
    d_.registry.set_stage(version, models::model_stage::production);
    async_request<std::int32_t>(
      d_.system, d_.pipeline.model_owner, actor_timeout,
      reply_as_json<std::int32_t>(std::move(done), [version](std::int32_t) {
        return nlohmann::json{{"promoted", version}, {"stage", "production"}};
      }),
      model_atom::value, model);
  });
}

void node_http_api::retrain(http::json_continuation done) {
  async_request<retrain_start>(
    d_.system, d_.coordinator, actor_timeout,
    reply_as_json<retrain_start>(std::move(done), [](const retrain_start& s) { return to_json(s); }),
    retrain_atom::value);
}

void node_http_api::readiness(http::json_continuation done) {
  nlohmann::json checks;
  bool ready = d_.started;
  {
    std::lock_guard<std::mutex> lock(d_.config_mutex);
    const auto& cfg = d_.history.current().config;
    if (!cfg.brokers.empty()) {
      checks["kafka"] = d_.probe->kafka();
      ready = ready && d_.probe->kafka();
    }
    if (!cfg.redis.empty()) {
      checks["redis"] = d_.probe->redis();
      ready = ready && d_.probe->redis();
    }
  }
  // A served model is the owner's word, not a copy of it.
  std::function<void(caf::expected<model_ptr>)> answer = [=, done = std::move(done)](caf::expected<model_ptr> model) mutable {
    bool loaded = model && *model;
    checks["model_loaded"] = loaded;
    done(nlohmann::json{{"ready", ready && loaded}, {"checks", checks}});
  };
  async_request<model_ptr>(d_.system, d_.pipeline.model_owner, actor_timeout, std::move(answer), caf::get_atom::value);
}

std::string node_http_api::metrics_text() {
  return pipeline::metrics().render();
}

void node_http_api::cluster(http::json_continuation done) {
  if (!d_.cluster.membership)
    return done(nlohmann::json{
      {"enabled", false},
      {"reason", "not clustered: a cluster needs brokers, redis and a cluster_port other than -1"}});
  async_request<cluster_view_ptr>(
    d_.system, d_.cluster.membership, actor_timeout,
    reply_as_json<cluster_view_ptr>(std::move(done),
                                    [](const cluster_view_ptr& view) {
                                      auto now = wall_ms();
                                      return cluster::to_json(*view, now);
                                    }),
    members_atom::value);
}

std::int64_t node_http_api::max_event_time_skew_ms() {
  return max_event_time_skew_ms_;
}

std::string node_http_api::auth_token() {
  std::lock_guard<std::mutex> lock(d_.config_mutex);
  return d_.history.current().config.auth_token;
}

} // namespace vigil::actors
