#pragma once
// A record moving through the streaming pipeline, and a batch of them.
// Plain C++: the actors move these between the shards.

#include "pipeline/features/feature_schema.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/schema/transaction.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace vigil::pipeline {

/// Where a record came from, for offset commits and snapshots.
struct source_position {
  std::int32_t partition = no_partition;  ///< none: from /predict
  std::int64_t offset = 0;
};

/// A label travelling with its transaction (a replayed file): the
/// merchant's state holds it until the stream reaches `known_at_ms`.
struct travelling_label {
  std::int64_t known_at_ms = 0;
  bool is_fraud = false;
};

/// One record moving through the pipeline; stages fill `features` in turn.
struct work_item {
  std::uint64_t sequence = 0;       ///< order assigned by the source
  transaction tx;
  feature_vector features{};
  source_position position;
  std::int64_t ingest_ns = 0;       ///< steady clock when the source read it
  std::int64_t source_time_ms = 0;  ///< Kafka record timestamp (produce time), 0 if none
  std::optional<travelling_label> label;  ///< replayed files only; never scored
};

using work_batch = std::vector<work_item>;

/// Steady-clock nanoseconds (monotonic), for latency.
std::int64_t steady_now_ns();

/// Input partition -> next offset to read.
using partition_positions = std::map<std::int32_t, std::int64_t>;

} // namespace vigil::pipeline
