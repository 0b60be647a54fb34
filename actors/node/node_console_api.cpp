// The console's part of the node's HTTP API: the review queue, the last
// hour of figures, models' training charts and backtests over the log.

#include "actors/node/async_request.h"
#include "actors/node/node_http_api.h"
#include "actors/pipeline/actor_errors.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "http/expensive_lane.h"
#include "models/evaluation/log_backtest.h"
#include "models/review/review_queue.h"
#include "pipeline/metrics/metric_history.h"

#include <caf/all.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vigil::actors {
namespace {

constexpr auto owner_timeout = std::chrono::milliseconds(5000);

} // namespace

nlohmann::json node_http_api::review_list(const http::review_query& q) {
  models::review_filter f;
  if (q.decision == "review")
    f.decision = models::decision_kind::review;
  else if (q.decision == "decline")
    f.decision = models::decision_kind::decline;
  f.min_score = q.min_score;
  f.max_score = q.max_score;
  f.user_id = q.user_id;
  f.merchant_id = q.merchant_id;
  f.rule_id = q.rule;
  f.status = q.status;
  f.before = q.before;
  f.limit = q.limit;
  return d_.review->list(f);
}

std::optional<nlohmann::json> node_http_api::review_item(const std::string& transaction_id) {
  return d_.review->detail(transaction_id);
}

nlohmann::json node_http_api::metrics_history() {
  return d_.metric_history->to_json();
}

void node_http_api::model_artifact(int version, const std::string& name, http::text_continuation done) {
  if (name != "pr_curve.svg" && name != "confusion.svg")
    return done(vigil_error(vigil_errc::not_found, "no artefact " + name + " (pr_curve.svg, confusion.svg)"));
  auto ticket = lane_->admit();
  if (!ticket)
    return done(vigil_error(vigil_errc::overloaded, "too many slow requests in progress; retry later"));
  lane_->post([this, ticket, version, name, done = std::move(done)] {
    try {
      if (!d_.registry.find(version))
        return done(vigil_error(vigil_errc::not_found, "no model version " + std::to_string(version)));
      done(models::read_whole_file(d_.registry.version_dir(version) / name));
    } catch (const std::exception&) {
      done(vigil_error(vigil_errc::not_found, "model " + std::to_string(version) + " has no " + name));
    }
  });
}

void node_http_api::backtest(http::backtest_call call, http::json_continuation done) {
  models::log_backtest_request request;
  request.candidate_version = call.model;
  if (!call.rules.is_null()) {
    auto errors = config::rules_from_json(call.rules, request.candidate_rules);
    if (!errors.empty())
      return done(vigil_error(vigil_errc::invalid_field, "the candidate's rules do not validate", config::errors_json(errors)));
  }
  for (auto [field, version] : {std::pair<const char*, int>{"model", call.model}, {"production_model", call.production_model}})
    if (version && !d_.registry.find(version))
      return done(vigil_error(vigil_errc::invalid_field, "no such model",
                              nlohmann::json::array({{{"field", field}, {"reason", "no model version " + std::to_string(version)}}})));
  config::runtime_config cfg;
  {
    std::lock_guard<std::mutex> lock(d_.config_mutex);
    cfg = d_.history.current().config;
  }
  request.production_rules = cfg.rules;
  request.decline = cfg.decline_threshold;
  if (d_.backtest_running.exchange(true))
    return done(vigil_error(vigil_errc::overloaded, "a backtest is running (one at a time); retry when it ends"));
  auto rows = call.rows;
  auto start = [this, request, cfg, rows, done](int production_version) mutable {
    request.production_version = production_version;
    std::lock_guard<std::mutex> lock(d_.backtest_mutex);
    if (d_.backtest_cancel) {  // stop() has joined the last worker: start none after it
      d_.backtest_running = false;
      return done(vigil_error(vigil_errc::pipeline_unavailable, "the node is stopping"));
    }
    if (d_.backtest_worker.joinable())
      d_.backtest_worker.join();  // the last one, finished
    d_.backtest_worker = std::thread([this, request, cfg, rows, done = std::move(done)] {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);  // this thread only
      outcome_of_backtest(request, cfg, rows, done);
      d_.backtest_running = false;
    });
  };
  if (call.production_model)
    return start(call.production_model);
  // Production is the model served now: its owner's word.
  async_request<model_ptr>(
    d_.system, d_.pipeline.model_owner, owner_timeout,
    [this, start, done](caf::expected<model_ptr> served) mutable {
      if (!served || !*served) {
        d_.backtest_running = false;
        return done(served ? vigil_error(vigil_errc::pipeline_unavailable, "no model is served yet")
                           : to_vigil_error(served.error()));
      }
      start((*served)->version);
    },
    caf::get_atom::value);
}

void node_http_api::outcome_of_backtest(const models::log_backtest_request& request, const config::runtime_config& cfg,
                                        std::size_t rows, const http::json_continuation& done) {
  connectors::scored_history history;
  try {
    history = read_node_history(cfg, rows, 2 * rows, d_.backtest_cancel);
  } catch (const std::exception& e) {
    return done(vigil_error(vigil_errc::store_unavailable, std::string("the decisions log could not be read: ") + e.what()));
  }
  try {
    auto report = models::backtest_decisions_log(d_.registry, history.decisions, history.labels, request);
    report["rows_requested"] = rows;
    report["malformed_records"] = history.malformed;
    done(std::move(report));
  } catch (const std::exception& e) {
    done(vigil_error(vigil_errc::invalid_field, std::string("a model could not be loaded: ") + e.what()));
  }
}

} // namespace vigil::actors
