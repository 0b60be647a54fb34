#include "actors/pipeline/pipeline_topology.h"

#include "actors/cluster/merchant_client.h"
#include "actors/pipeline/feature_actors.h"
#include "actors/pipeline/scorer_actor.h"
#include "actors/pipeline/serving_model_actor.h"
#include "actors/pipeline/sink_actor.h"
#include "actors/pipeline/source_actor.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/stream/keyed_shards.h"

#include <caf/all.hpp>

namespace vigil::actors {

pipeline_handles start_pipeline(caf::actor_system& sys, pipeline_parts parts) {
  const auto& cfg = *parts.config;
  pipeline_handles h;
  std::vector<snapshot_ptr> users(cfg.user_shards);
  std::vector<std::shared_ptr<merchant_map>> merchants(cfg.merchant_shards);
  for (auto& u : users)
    u = std::make_shared<pipeline::store_snapshot>();
  for (auto& m : merchants)
    m = std::make_shared<merchant_map>();
  if (parts.snapshots) {
    // The node's own part; a partitioned input brings its partitions' state
    // when they are assigned.
    if (auto snap = parts.snapshots->load_node()) {
      h.restored_users = snap->users.size();
      h.restored_merchants = parts.merchant_routes ? 0 : snap->merchants.size();
      for (auto& [id, state] : snap->users) {
        auto& shard = *users[pipeline::shard_of(id, cfg.user_shards)];
        shard.users[id] = state;
        if (auto owner = snap->partition_of_user(id); owner != pipeline::no_partition)
          shard.user_partitions[id] = owner;
      }
      // A clustered node's merchants are in the global merchant shards; a
      // node part from before it was clustered is not merged into them.
      if (parts.merchant_routes)
        snap->merchants.clear();
      for (auto& [id, state] : snap->merchants)
        (*merchants[pipeline::shard_of(id, cfg.merchant_shards)])[id] = state;
      parts.source->seek(snap->positions);
      h.restored_positions = snap->positions;
    }
  }
  h.sink = spawn_sink_actor(sys, cfg.merchant_shards, parts.publisher);
  for (int i = 0; i < cfg.scorers; ++i)
    h.scorers.push_back(spawn_scorer_actor(sys, h.sink, parts.model, parts.config, parts.drift));
  // Sent before the source exists: it is in each scorer's mailbox ahead of
  // every batch. (Sent after the start, the first few hundred records of a
  // stream got no shadow decision.)
  if (parts.shadow_model)
    for (const auto& scorer : h.scorers)
      caf::anon_send(scorer, shadow_model_atom::value, parts.shadow_model);
  h.model_owner = spawn_serving_model(sys, parts.model, h.scorers);
  // The bound on keys HTTP created is the node's, shared out over shards.
  pipeline::state_bounds user_bounds, merchant_bounds;
  user_bounds.max_http_keys = std::max<std::size_t>(1, cfg.max_http_keys / cfg.user_shards);
  merchant_bounds.max_http_keys = std::max<std::size_t>(1, cfg.max_http_keys / cfg.merchant_shards);
  for (int j = 0; j < cfg.merchant_shards; ++j)
    h.merchant_shards.push_back(
      parts.merchant_routes
        ? spawn_merchant_client(sys, j, cfg.user_shards, h.scorers, parts.merchant_routes)
        : spawn_merchant_feature_actor(sys, j, cfg.user_shards, h.scorers, cfg.allowed_lateness_ms,
                                       merchant_bounds, merchants[j]));
  for (int i = 0; i < cfg.user_shards; ++i)
    h.user_shards.push_back(spawn_user_feature_actor(sys, i, h.merchant_shards,
                                                     cfg.allowed_lateness_ms, user_bounds, users[i]));
  if (parts.decision_listeners)
    for (const auto& listener : parts.decision_listeners(h))
      caf::anon_send(h.sink, listen_atom::value, listener);
  h.source = spawn_source_actor(sys, parts.source, parts.snapshots,
                                source_settings{h.user_shards, h.merchant_shards, parts.config, parts.ownership});
  caf::anon_send(h.sink, subscribe_atom::value, h.source);
  return h;
}

void broadcast_config(const pipeline_handles& p, config_ptr config) {
  auto send_all = [&](const auto& actors) {
    for (const auto& a : actors)
      caf::anon_send(a, config_atom::value, config);
  };
  caf::anon_send(p.source, config_atom::value, config);
  send_all(p.user_shards);
  send_all(p.merchant_shards);
  send_all(p.scorers);
}

void stop_pipeline(const pipeline_handles& p) {
  auto stop = [](const auto& a) {
    if (a)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };
  stop(p.source);
  for (const auto& a : p.user_shards) stop(a);
  for (const auto& a : p.merchant_shards) stop(a);
  for (const auto& a : p.scorers) stop(a);
  stop(p.sink);
  stop(p.model_owner);
}

} // namespace vigil::actors
