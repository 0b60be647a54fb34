#pragma once
// Spawns and wires one node's pipeline:
//   source -> user shards -> merchant shards -> scorer pool -> sink
// restoring shard state and source positions from the last checkpoint.

#include "actors/cluster/predict_router.h"
#include "actors/pipeline/actor_interfaces.h"
#include "pipeline/connectors/decision_publisher.h"
#include "pipeline/connectors/record_source.h"
#include "pipeline/connectors/snapshot_store.h"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace vigil::models {
class drift_tracker;
}

namespace vigil::actors {

struct pipeline_handles;

struct pipeline_parts {
  std::shared_ptr<connectors::record_source> source;
  std::shared_ptr<connectors::decision_publisher> publisher;
  std::shared_ptr<connectors::snapshot_store> snapshots;  ///< may be null: no checkpoints
  model_ptr model;
  config_ptr config;
  /// Called once shards, scorers and sink exist and before the source
  /// starts: the actors it returns receive every published decision batch
  /// from the first one on.
  std::function<std::vector<decision_listener_actor>(const pipeline_handles&)> decision_listeners;
  /// Counts what the scorers score from the stream; may be null.
  std::shared_ptr<models::drift_tracker> drift;
  /// Where the source publishes the partitions it reads; may be null.
  std::shared_ptr<cluster::ownership_board> ownership;
  /// Set when merchant state is cluster-wide: the local merchant shards ask
  /// the holders these routes name (merchant_client.h) and hold none.
  std::shared_ptr<const predict_route_board> merchant_routes;
  /// The shadow's own model (null: none, or the served one): every scorer
  /// has it before the first batch, so the shadow decides the whole stream.
  model_ptr shadow_model;
};

struct pipeline_handles {
  source_actor source;
  sink_actor sink;
  std::vector<user_shard_actor> user_shards;
  std::vector<merchant_shard_actor> merchant_shards;
  std::vector<scorer_actor> scorers;
  serving_model_actor model_owner;  ///< swaps the model served by `scorers`
  std::size_t restored_users = 0, restored_merchants = 0;
  partition_positions restored_positions;
};

/// Throws std::runtime_error when the checkpoint exists but is corrupt or
/// the store is unreachable.
pipeline_handles start_pipeline(caf::actor_system& sys, pipeline_parts parts);

/// Sends a new config to every actor.
void broadcast_config(const pipeline_handles& p, config_ptr config);
/// Stops every actor of the pipeline.
void stop_pipeline(const pipeline_handles& p);

} // namespace vigil::actors
