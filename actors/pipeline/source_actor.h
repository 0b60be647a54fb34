#pragma once
// The head of the pipeline. Reads records into batches (by size or
// deadline), routes each batch by user shard, and keeps at most
// `max_in_flight_batches` batches between itself and the sink: without
// credit it pauses its input instead of queueing. It takes aligned
// checkpoints: it stops issuing, waits until every batch is delivered, then
// saves the state every shard changed since the last checkpoint with the
// positions that state reflects, atomically, and only then commits those
// positions to the input.

#include "actors/pipeline/actor_interfaces.h"
#include "pipeline/connectors/record_source.h"
#include "pipeline/connectors/snapshot_store.h"

#include <caf/fwd.hpp>

#include <memory>
#include <vector>

namespace vigil::actors {

struct source_settings {
  std::vector<user_shard_actor> user_shards;
  std::vector<merchant_shard_actor> merchant_shards;
  config_ptr config;
  /// Where ownership changes are published (a clustered node); may be null.
  std::shared_ptr<cluster::ownership_board> ownership;
};

/// A source (see source_actor). It follows partition ownership: a revoked
/// partition is checkpointed before the source lets it go, an assigned one
/// is read only once the user shards hold its checkpointed users.
source_actor spawn_source_actor(caf::actor_system& sys, std::shared_ptr<connectors::record_source> source,
                              std::shared_ptr<connectors::snapshot_store> snapshots,
                              source_settings settings);

} // namespace vigil::actors
