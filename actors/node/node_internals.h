#pragma once
// vigil_node's private parts, shared by the files that implement the node
// (pipeline, Kafka wiring, HTTP handlers). Includes CAF: keep it out of
// headers that do not need it.

#include "actors/node/vigil_node.h"
#include "actors/pipeline/pipeline_topology.h"
#include "actors/retrain/label_store.h"
#include "http/http_server.h"
#include "http/node_api.h"
#include "models/registry/model_registry.h"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <atomic>
#include <chrono>
#include <mutex>

namespace vigil::actors {

class node_name_lease;

struct vigil_node::impl {
  impl(config::runtime_config c, std::string path);

  /// Sends the current config to every actor.
  void publish_config();
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

  caf::actor_system_config system_config;
  caf::actor_system system;
  config::config_history history;
  std::string config_path;
  std::mutex config_mutex;
  models::model_registry registry;
  model_ptr model;
  pipeline_handles pipeline;
  caf::actor coordinator;
  std::unique_ptr<label_store> labels;
  std::shared_ptr<std::atomic<bool>> cancel_history;  ///< set on stop: the read-back ends
  std::shared_ptr<const node_name_lease> lease;        ///< with Redis checkpoints
  std::unique_ptr<http::node_api> api;
  std::unique_ptr<http::http_server> server;
  bool started = false;
};

} // namespace vigil::actors
