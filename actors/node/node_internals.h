#pragma once
// vigil_node's private parts, shared by the files that implement the node
// (pipeline, Kafka wiring, HTTP handlers). Includes CAF: keep it out of
// headers that do not need it.

#include "pipeline/connectors/readiness_probe.h"
#include "actors/cluster/cluster_membership.h"
#include "actors/node/vigil_node.h"
#include "actors/pipeline/actor_interfaces.h"
#include "actors/pipeline/pipeline_topology.h"
#include "pipeline/connectors/label_store.h"
#include "pipeline/connectors/scored_history.h"
#include "http/expensive_lane.h"
#include "http/http_server.h"
#include "http/node_api.h"
#include "models/registry/model_registry.h"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

namespace vigil::connectors {
class node_name_lease;
class cluster_settings_store;
struct shared_settings;
}
namespace vigil::models {
class drift_tracker;
class drift_view;
class label_quality;
class review_queue;
}
namespace vigil::pipeline {
class metric_history;
}

namespace vigil::actors {

/// This machine's host name ("localhost" when it has none).
std::string host_name();

/// The newest `decisions` published decisions (with their scored vectors)
/// and `labels` stored labels: the decisions file and labels file of an
/// embedded node, else the predictions and labels topics.
connectors::scored_history read_node_history(const config::runtime_config& cfg, std::size_t decisions,
                                             std::size_t labels, const std::atomic<bool>& cancel);

struct vigil_node::impl {
  impl(config::runtime_config c, std::string path);

  /// Sends the current config to every actor.
  void publish_config();
  /// The models a config change brings: the served one when the stage
  /// changes, the shadow's when the shadow is switched on or its version
  /// changes (null shadow = the served model).
  struct model_switch {
    model_ptr served;
    bool shadow_changed = false;
    model_ptr shadow;
  };
  /// Loads what `next` needs into `models`, or says why it cannot (then
  /// nothing may change).
  std::vector<config::config_error> switch_to(const config::runtime_config& next, model_switch& models);
  /// Runs a history change that makes `next`; when it made a new version,
  /// publishes it to the actors and hands `models` (if any) to the
  /// serving-model owner. With `share` (a change made on this node) in a
  /// cluster, the live fields of `next` are published to the cluster's
  /// settings first: when that fails, nothing changes. A rotated token is
  /// written to its file before it is in force.
  std::vector<config::config_error> commit(const config::runtime_config& next,
                                           const std::function<std::vector<config::config_error>()>& change,
                                           const model_switch& models, bool share);
  /// A newer version of the cluster's settings (membership thread): its
  /// live config and promoted model are adopted; "" or why not.
  std::string adopt(const connectors::shared_settings& settings);
  /// The model of `stage` (the newest such), else the production version.
  model_ptr load_served_model(const std::string& stage, int production_version);
  /// The newest model in `stage`, nullptr when none. Throws registry_error.
  model_ptr load_stage_model(const std::string& stage);
  /// Asks the source (drained, snapshot) and waits for its yes/no; false on
  /// timeout or error.
  template <class Atom>
  bool ask_source(Atom atom, std::chrono::milliseconds timeout);
  /// Fills Kafka source/publisher and the Redis (or file) snapshot store.
  void attach_kafka(pipeline_parts& parts, const config::runtime_config& cfg);
  /// Publishes this node on its cluster port and starts its membership
  /// (clustered configs only, after the pipeline and the HTTP server).
  void join_cluster(const config_ptr& cfg);

  // Declared first, destroyed last: responders and lane tasks held by
  // actors may still run while the actor system winds down.
  std::unique_ptr<http::http_server> server;
  std::shared_ptr<http::expensive_lane> lane;
  caf::actor_system_config system_config;
  caf::actor_system system;
  config::config_history history;
  std::string config_path;
  std::mutex config_mutex;
  models::model_registry registry;
  pipeline_handles pipeline;
  retrain_coordinator_actor coordinator;
  predict_gateway_actor gateway;
  /// Live drift of the served model: scorers and the gateway count, the
  /// coordinator publishes, GET /models reports.
  std::shared_ptr<models::drift_tracker> drift;
  /// What is reported as drift: this node's, or in a cluster every node's
  /// (drift_sharing keeps it current).
  std::shared_ptr<models::drift_view> drift_view;
  drift_sharing_actor drift_sharing;  ///< clustered only
  /// Served decisions against the labels that come back, by label week.
  std::shared_ptr<models::label_quality> label_quality;
  /// Flagged decisions for the analysts, with users' recent history: the
  /// review listener adds, /feedback labels, GET /review reads.
  std::shared_ptr<models::review_queue> review;
  decision_listener_actor review_listener;
  /// The last hour of headline figures, for the console's charts.
  std::unique_ptr<pipeline::metric_history> metric_history;
  /// POST /backtest: one at a time, on its own thread, cancelled and joined
  /// on stop.
  std::mutex backtest_mutex;
  std::thread backtest_worker;
  std::atomic<bool> backtest_running{false};
  std::atomic<bool> backtest_cancel{false};
  std::unique_ptr<connectors::readiness_probe> probe;
  std::unique_ptr<connectors::label_store> labels;
  std::shared_ptr<std::atomic<bool>> cancel_history;  ///< set on stop: the read-back ends
  std::shared_ptr<const connectors::node_name_lease> lease;        ///< with Redis checkpoints
  std::string node_name;  ///< this node's name in Redis (attach_kafka)
  /// The config version in force, for peers' status requests.
  std::shared_ptr<std::atomic<std::int32_t>> config_version = std::make_shared<std::atomic<std::int32_t>>(0);
  cluster_handles cluster;  ///< empty unless clustered
  /// The cluster's shared settings (clustered configs only), and the
  /// version of them this node runs, for peers' status requests.
  std::shared_ptr<connectors::cluster_settings_store> shared;
  std::shared_ptr<std::atomic<std::int64_t>> settings_version = std::make_shared<std::atomic<std::int64_t>>(0);
  std::int32_t adopted_model = 0;  ///< the cluster-wide promotion last adopted (config_mutex)
  /// The partitions this node's source reads (clustered configs only).
  std::shared_ptr<cluster::ownership_board> ownership;
  /// Where /predict's transactions are answered (set before the HTTP
  /// server starts, clustered configs only; empty until the first round).
  std::shared_ptr<predict_route_board> routes;
  /// This node's share of the cluster's merchant shards (clustered only).
  merchant_host_actor merchant_host;
  std::unique_ptr<http::node_api> api;
  std::atomic<bool> started{false};
  bool stopped = false;
  /// Set when the source reports a finite input delivered and checkpointed.
  std::shared_ptr<std::atomic<bool>> drained = std::make_shared<std::atomic<bool>>(false);
};

} // namespace vigil::actors
