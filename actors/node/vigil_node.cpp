#include "actors/node/vigil_node.h"

#include "pipeline/connectors/cluster_settings.h"
#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "actors/node/node_http_api.h"
#include "actors/node/node_internals.h"
#include "pipeline/connectors/kafka_partitioner.h"
#include "actors/retrain/retrain_coordinator.h"
#include "pipeline/connectors/scored_history.h"
#include "http/api_router.h"
#include "actors/pipeline/predict_gateway.h"
#include "pipeline/connectors/file_replay_source.h"
#include "pipeline/connectors/simulator_source.h"
#include "actors/pipeline/vigil_atoms.h"
#include "models/drift/label_quality.h"
#include "models/drift/drift_view.h"
#include "models/drift/live_drift.h"
#include "models/review/review_queue.h"
#include "actors/pipeline/review_listener.h"
#include "pipeline/metrics/metric_history.h"
#include "models/training/model_publication.h"
#include "pipeline/metrics/metrics_registry.h"
#include "config/token_file.h"

#include <caf/all.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

namespace vigil::actors {

namespace {

constexpr std::int64_t bootstrap_transactions = 150'000;
constexpr std::int64_t embedded_population_basis = 1'000'000;  ///< 10,000 users
/// A replayed file with more invalid lines than this does not start.
constexpr double replay_max_invalid_share = 0.01;
/// Expensive requests (explanations, large arrays, label writes, model
/// loads) admitted at once; more are answered 503 with Retry-After.
constexpr int expensive_lane_capacity = 8;

caf::actor_system_config& configure(caf::actor_system_config& cfg, int threads,
                                   const config::runtime_config& c) {
  cfg.set("scheduler.max-threads", threads);
  cfg.set("logger.console", caf::atom("none"));
  // A worker that runs out of jobs polls its queue 100 times, then (CAF's
  // default) 500 more with a 50 us sleep between, 25 ms of waking 20,000
  // times a second, then sleeps until a job comes. The source's 1-ms tick
  // kept both workers in that middle stage: an idle clustered node spent
  // 200-250 ms of CPU a second, and three nodes on two cores ~0.5 core of
  // them. With 10, 140 ms (cluster stream bench, idle phase).
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{10});
  if (config::clustered(c))
    configure_cluster(cfg);
  return cfg;
}

void publish_startup_metrics(vigil_node::impl& d) {
  pipeline::metrics().get_gauge("vigil_config_version", "Version of the live config")
    .set(d.history.current().version);
  pipeline::metrics().get_gauge("vigil_restored_users", "User states restored from the checkpoint at start")
    .set(static_cast<double>(d.pipeline.restored_users));
}

// The default token is public knowledge: refused unless only this machine
// can connect, and shouted about even then.
void refuse_or_warn_default_token(const config::runtime_config& c) {
  bool default_token = c.auth_token == config::default_auth_token;
  pipeline::metrics().get_gauge("vigil_default_token_in_use", "1 while the well-known default bearer token is accepted")
    .set(default_token ? 1 : 0);
  if (!default_token)
    return;
  if (!config::is_loopback_address(c.http_address))
    throw std::runtime_error("refusing to serve " + c.http_address + " with the default auth_token '" +
                             config::default_auth_token + "': set auth_token to a secret of your own");
  std::cerr << "WARNING: the bearer token is the default '" << config::default_auth_token
            << "'. Anyone on this machine can change config, labels and models.\n"
            << "WARNING: rotate it: PATCH /config {\"auth_token\": \"<secret>\"} (kept in "
            << c.auth_token_path << "), or set auth_token in the config file.\n";
}

} // namespace

vigil_node::impl::impl(config::runtime_config c, std::string path)
  : system(configure(system_config, 2, c)), history(config::with_persisted_token(std::move(c))),
    config_path(std::move(path)),
    registry(history.current().config.registry_dir) {}

vigil_node::vigil_node(config::runtime_config cfg, std::string config_path)
  : impl_(std::make_unique<impl>(std::move(cfg), std::move(config_path))) {}

vigil_node::~vigil_node() {
  stop();
}

connectors::scored_history read_node_history(const config::runtime_config& cfg, std::size_t decisions,
                                             std::size_t labels, const std::atomic<bool>& cancel) {
  if (cfg.brokers.empty())
    return connectors::read_file_history(cfg.decisions_path, cfg.labels_path, decisions, labels, cancel);
  return connectors::read_kafka_history(cfg.brokers, "fraud_predictions", "fraud_labels", decisions, labels,
                                        std::chrono::seconds(60), cancel);
}

namespace {

// What a clustered node's retrain coordinator sees of the cluster: the
// membership actor's routes and the source's ownership, both boards.
std::shared_ptr<const coordinator_cluster> coordinator_reach(std::shared_ptr<const predict_route_board> routes,
                                                             std::shared_ptr<const cluster::ownership_board> ownership) {
  auto c = std::make_shared<coordinator_cluster>();
  c->coordinator = [routes]() -> std::string {
    auto r = routes->current();
    if (!r || r->coordinator.empty())
      return "(none)";
    return r->coordinator == r->self ? "" : r->coordinator;
  };
  c->peers = [routes] {
    auto r = routes->current();
    return r ? r->peers : std::map<std::string, cluster_peer_actor>{};
  };
  c->reads_user = [routes, ownership](const std::string& user_id) {
    auto r = routes->current();
    auto own = ownership->current();
    if (!r || !own || own->topic_partitions <= 0)
      return false;
    auto p = connectors::partition_of(user_id, own->topic_partitions, r->partitioner);
    return std::find(own->read.begin(), own->read.end(), p) != own->read.end();
  };
  return c;
}

} // namespace

void vigil_node::start() {
  auto& d = *impl_;
  const auto cfg = std::make_shared<const config::runtime_config>(d.history.current().config);
  refuse_or_warn_default_token(*cfg);
  int version = models::ensure_production_model(d.registry, bootstrap_transactions,
                                                [](const std::string& line) {
                                                  std::cerr << "  " << line << "\n";
                                                });
  auto model = d.load_served_model(cfg->model_stage, version);
  pipeline_parts parts;
  if (cfg->brokers.empty()) {
    pipeline::simulator_options so;
    so.seed = cfg->simulator_seed;
    so.users = static_cast<int>(cfg->simulator_users);
    // The population does not depend on --count, so a longer run extends
    // the same stream (what resuming from a checkpoint relies on).
    so.expected_count = embedded_population_basis;
    if (cfg->replay_path.empty())
      parts.source = std::make_shared<connectors::simulator_source>(so, cfg->simulator_rate, cfg->simulator_count,
                                                                    cfg->simulator_labels);
    else
      parts.source = std::make_shared<connectors::file_replay_source>(cfg->replay_path, cfg->replay_speedup,
                                                                      replay_max_invalid_share);
    parts.publisher = std::make_shared<connectors::file_decision_publisher>(cfg->decisions_path);
    parts.snapshots = std::make_shared<connectors::file_snapshot_store>(cfg->snapshot_path);
  } else {
    d.attach_kafka(parts, *cfg);
  }
  parts.model = model;
  parts.config = cfg;
  if (config::clustered(*cfg)) {
    d.ownership = std::make_shared<cluster::ownership_board>();
    parts.ownership = d.ownership;
    d.routes = std::make_shared<predict_route_board>();
    parts.merchant_routes = d.routes;
  }
  // In a cluster, the counts are also shared: drift is the whole cluster's.
  d.drift = std::make_shared<models::drift_tracker>(8, config::clustered(*cfg));
  d.drift_view = std::make_shared<models::drift_view>(d.drift, config::clustered(*cfg));
  d.label_quality = std::make_shared<models::label_quality>();
  d.review = std::make_shared<models::review_queue>();
  d.review_listener = spawn_review_listener(d.system, d.review);
  d.metric_history = std::make_unique<pipeline::metric_history>(pipeline::metrics(), std::chrono::seconds(10), 360);
  d.metric_history->start();
  parts.drift = d.drift;
  // The coordinator must log every scored vector, the first batch's too.
  parts.decision_listeners = [&d, cfg](const pipeline_handles& h) {
    d.coordinator = spawn_retrain_coordinator(
      d.system, retrain_wiring{h.merchant_shards, h.user_shards, h.model_owner, cfg, d.drift_view, d.label_quality,
                               d.routes ? coordinator_reach(d.routes, d.ownership) : nullptr});
    return std::vector<decision_listener_actor>{d.coordinator, d.review_listener};
  };
  // The shadow's own model, loaded before anything starts (a version the
  // registry cannot load stops the start, as a config change is refused).
  if (cfg->shadow_enabled && cfg->shadow_model_version > 0)
    parts.shadow_model = models::load_scoring_model(d.registry, cfg->shadow_model_version);
  d.pipeline = start_pipeline(d.system, parts);
  // The source answers once a finite input is delivered and checkpointed.
  d.system.spawn(
    [](caf::event_based_actor* self, source_actor source, std::shared_ptr<std::atomic<bool>> drained) {
      self->request(source, caf::infinite, drained_atom::value)
        .then([drained](bool) { *drained = true; }, [](caf::error&) {});
    },
    d.pipeline.source, d.drained);
  // Feedback for what was scored before this start still joins: the newest
  // published decisions (with their scored vectors) and stored labels (up
  // to twice as many, to cover them) are read back in the background.
  const auto decisions = static_cast<std::size_t>(cfg->readback_decisions), labels = 2 * decisions;
  // The review queue gets the flagged ones back with their labels.
  auto read_history = [cfg, decisions, labels, review = d.review](const std::atomic<bool>& cancel) {
    auto history = read_node_history(*cfg, decisions, labels, cancel);
    review->add(history.decisions);
    review->label(history.labels);
    return history;
  };
  if (decisions > 0)
    d.cancel_history = restore_scored_history(d.system, d.coordinator, read_history);
  if (cfg->brokers.empty())
    d.labels = std::make_unique<connectors::file_label_store>(cfg->labels_path);
  else
    d.labels = connectors::make_kafka_label_store(cfg->brokers, "fraud_labels");
  // /predict: one in-flight pass per CAF thread plus one filling; the lane
  // has one thread below the I/O threads' priority for expensive work.
  d.lane = std::make_shared<http::expensive_lane>(1, expensive_lane_capacity, 10);
  predict_gateway_wiring gw{d.pipeline.user_shards, d.pipeline.merchant_shards, d.pipeline.scorers,
                            d.coordinator, d.lane, d.drift};
  d.gateway = spawn_predict_gateway(d.system, std::move(gw));
  d.probe = std::make_unique<connectors::readiness_probe>(cfg->brokers, cfg->redis);
  if (config::clustered(*cfg)) {
    d.shared = std::make_shared<connectors::cluster_settings_store>(
      cfg->redis, connectors::checkpoint_prefix(cfg->consumer_group, cfg->input_topic));
  }
  d.api = std::make_unique<node_http_api>(*this, d.gateway, d.lane);
  http::server_settings hs;
  hs.address = cfg->http_address;
  hs.port = static_cast<unsigned short>(cfg->http_port);
  hs.body_limit_bytes = cfg->body_limit_bytes;
  hs.read_timeout_ms = cfg->read_timeout_ms;
  hs.max_connections = cfg->max_connections;
  hs.max_connections_per_client = cfg->max_connections_per_client;
  d.server = std::make_unique<http::http_server>(
    hs, [api = d.api.get()](http::http_request r, http::responder respond) {
      http::route(std::move(r), *api, std::move(respond));
    });
  d.started = true;
  *d.config_version = d.history.current().version;
  d.join_cluster(cfg);
  publish_startup_metrics(d);
}

unsigned short vigil_node::http_port() const {
  return impl_->server ? impl_->server->port() : 0;
}

template <class Atom>
bool vigil_node::impl::ask_source(Atom atom, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  bool ok = false;
  self->request(pipeline.source, timeout, atom)
    .receive([&](bool done) { ok = done; }, [&](caf::error&) { ok = false; });
  return ok;
}

bool vigil_node::wait_drained(std::chrono::milliseconds timeout) {
  return impl_->ask_source(drained_atom::value, timeout);
}

bool vigil_node::drained() const {
  return *impl_->drained;
}

bool vigil_node::checkpoint(std::chrono::milliseconds timeout) {
  return impl_->ask_source(snapshot_atom::value, timeout);
}

void vigil_node::stop() {
  auto& d = *impl_;
  // Stops whatever start() got to: a start that failed half-way (the HTTP
  // port taken) must not leave actors that the actor system waits for.
  if (d.stopped)
    return;
  d.stopped = true;
  d.started = false;
  const auto membership_left = std::chrono::steady_clock::now();
  if (d.cluster.membership)  // peers see it leave now, not after its registration expires
    caf::anon_send_exit(d.cluster.membership, caf::exit_reason::user_shutdown);
  if (d.server)
    d.server->stop();
  if (d.lane)
    d.lane->stop();
  d.backtest_cancel = true;
  {
    std::lock_guard<std::mutex> lock(d.backtest_mutex);
    if (d.backtest_worker.joinable())
      d.backtest_worker.join();
  }
  if (d.review_listener)
    caf::anon_send_exit(d.review_listener, caf::exit_reason::user_shutdown);
  if (d.cancel_history)
    *d.cancel_history = true;
  if (d.pipeline.source)
    d.ask_source(quiesce_atom::value, std::chrono::seconds(30));  // final checkpoint
  stop_pipeline(d.pipeline);
  if (d.merchant_host)  // after the final checkpoint: it checkpoints its merchant shards and lets them go
    caf::anon_send_exit(d.merchant_host, caf::exit_reason::user_shutdown);
  if (d.coordinator)
    caf::anon_send_exit(d.coordinator, caf::exit_reason::user_shutdown);
  if (d.drift_sharing)
    caf::anon_send_exit(d.drift_sharing, caf::exit_reason::user_shutdown);
  if (d.gateway)
    caf::anon_send_exit(d.gateway, caf::exit_reason::user_shutdown);
  for (const auto& part : {caf::actor_cast<caf::actor>(d.cluster.gate), caf::actor_cast<caf::actor>(d.cluster.peer)})
    if (part)  // published or handed to peers: pinned until they exit
      caf::anon_send_exit(part, caf::exit_reason::user_shutdown);
  // The membership actor is detached, and a request it made just before it
  // left (connect and join: 3 s) keeps a strong reference to it in CAF's
  // clock until the request times out. If the actor system is destroyed
  // first, the clock stops with that reference held and the destructor
  // waits for the actor's thread forever. Let those timeouts pass.
  if (d.cluster.membership)
    std::this_thread::sleep_until(membership_left + std::chrono::milliseconds(3'500));
}

std::vector<config::config_error> vigil_node::impl::switch_to(const config::runtime_config& next,
                                                               model_switch& models) {
  // Switching the served stage, or the shadow's model, needs a loadable
  // model: checked before anything changes.
  const auto& now = history.current().config;
  if (next.shadow_enabled && next.shadow_model_version > 0 &&
      (!now.shadow_enabled || next.shadow_model_version != now.shadow_model_version)) {
    try {
      models.shadow = models::load_scoring_model(registry, next.shadow_model_version);
      models.shadow_changed = true;
    } catch (const std::exception& e) {
      return {{"shadow_model_version", e.what()}};
    }
  } else if (next.shadow_model_version == 0 && now.shadow_model_version != 0) {
    models.shadow_changed = true;  // back to the served model
  }
  if (next.model_stage == now.model_stage)
    return {};
  try {
    models.served = load_stage_model(next.model_stage);
  } catch (const std::exception& e) {
    return {{"model_stage", e.what()}};
  }
  if (!models.served)
    return {{"model_stage", "no model in stage " + next.model_stage}};
  return {};
}

std::vector<config::config_error> vigil_node::impl::commit(const config::runtime_config& next,
                                                           const std::function<std::vector<config::config_error>()>& change,
                                                           const model_switch& models, bool share) {
  int before = history.current().version;
  if (share && shared && config::live_fields(next) != config::live_fields(history.current().config)) {
    try {
      *settings_version = shared->publish_config(config::live_fields(next), node_name + ": config");
    } catch (const std::exception& e) {
      return {{"$", std::string("not applied: the cluster's settings could not be stored: ") + e.what()}};
    }
  }
  // A rotated token is written down before it is in force, so a restart
  // never brings back the old one.
  if (next.auth_token != history.current().config.auth_token) {
    try {
      config::write_token_file(next.auth_token_path, next.auth_token);
    } catch (const std::exception& e) {
      return {{"auth_token", e.what()}};
    }
  }
  auto errors = change();
  if (!errors.empty() || history.current().version == before)
    return errors;
  publish_config();
  if (models.served && started)
    caf::anon_send(pipeline.model_owner, model_atom::value, models.served);
  if (models.shadow_changed && started)
    caf::anon_send(pipeline.model_owner, shadow_model_atom::value, models.shadow);
  return errors;
}

std::vector<config::config_error> vigil_node::update_config(const nlohmann::json& patch,
                                                            const std::string& source) {
  std::lock_guard<std::mutex> lock(impl_->config_mutex);
  auto& d = *impl_;
  config::runtime_config next;
  if (auto errors = config::apply_patch(d.history.current().config, patch, true, next); !errors.empty())
    return errors;
  impl::model_switch models;
  if (auto errors = d.switch_to(next, models); !errors.empty())
    return errors;
  return d.commit(next, [&] { return d.history.update(patch, source); }, models, true);
}

std::vector<config::config_error> vigil_node::rollback_config(int version) {
  std::lock_guard<std::mutex> lock(impl_->config_mutex);
  auto& d = *impl_;
  // The whole effective state comes back, the served model included.
  impl::model_switch models;
  auto next = d.history.current().config;
  for (const auto& v : d.history.versions())
    if (v.version == version) {
      if (auto errors = d.switch_to(v.config, models); !errors.empty())
        return errors;
      next = v.config;
      next.auth_token = d.history.current().config.auth_token;  // a rollback keeps the token
    }
  return d.commit(next, [&] { return d.history.rollback(version); }, models, true);
}

std::vector<config::config_error> vigil_node::reload_config_file() {
  if (impl_->config_path.empty())
    return {{"$", "no config file was given at startup"}};
  config::runtime_config next;
  try {
    next = config::load_config_file(impl_->config_path);
  } catch (const std::exception& e) {
    return {{"$", e.what()}};
  }
  std::lock_guard<std::mutex> lock(impl_->config_mutex);
  auto& d = *impl_;
  impl::model_switch models;
  if (auto errors = d.switch_to(next, models); !errors.empty())
    return errors;
  next.auth_token = d.history.current().config.auth_token;  // a reload keeps the token
  return d.commit(next, [&] { return d.history.replace(next, "sighup"); }, models, true);
}

const config::config_history& vigil_node::config() const {
  return impl_->history;
}

std::string vigil_node::fatal_error() const {
  const auto& lease = impl_->lease;
  if (lease && lease->lost())
    return "another node took the node_name lease " + lease->key() + "; every checkpoint would be refused";
  return "";
}

std::string vigil_node::summary_line() const {
  auto& m = pipeline::metrics();
  auto& latency = m.get_histogram("vigil_decision_latency_seconds", "");
  char line[256];
  std::snprintf(line, sizeof line,
                "in %llu | approve %llu review %llu decline %llu | latency p50 <= %.2f ms p99 <= %.2f ms | "
                "in-flight %.0f paused %.0f | partitions %.0f | model v%.0f",
                static_cast<unsigned long long>(m.get_counter("vigil_records_in_total", "").value()),
                static_cast<unsigned long long>(m.get_counter("vigil_decisions_total{decision=\"approve\"}", "").value()),
                static_cast<unsigned long long>(m.get_counter("vigil_decisions_total{decision=\"review\"}", "").value()),
                static_cast<unsigned long long>(m.get_counter("vigil_decisions_total{decision=\"decline\"}", "").value()),
                latency.quantile(0.5) * 1e3, latency.quantile(0.99) * 1e3,
                m.get_gauge("vigil_in_flight_batches", "").value(),
                m.get_gauge("vigil_source_paused", "").value(),
                m.get_gauge("vigil_partitions_owned", "").value(),
                m.get_gauge("vigil_model_version", "").value());
  return line;
}

void vigil_node::impl::publish_config() {
  auto next = std::make_shared<const config::runtime_config>(history.current().config);
  if (started) {
    broadcast_config(pipeline, next);
    caf::anon_send(coordinator, config_atom::value, next);
    if (cluster.gate) {
      caf::anon_send(cluster.gate, config_atom::value, next);
      caf::anon_send(cluster.membership, config_atom::value, next);
    }
  }
  pipeline::metrics().get_gauge("vigil_config_version", "Version of the live config")
    .set(history.current().version);
  *config_version = history.current().version;
}

model_ptr vigil_node::impl::load_stage_model(const std::string& stage) {
  int version = 0;
  for (const auto& e : registry.list())
    if (models::to_string(e.stage) == stage)
      version = e.version;  // the newest in that stage
  return version ? models::load_scoring_model(registry, version) : nullptr;
}

model_ptr vigil_node::impl::load_served_model(const std::string& stage, int production_version) {
  auto model = load_stage_model(stage);
  return model ? model : models::load_scoring_model(registry, production_version);
}

} // namespace vigil::actors
