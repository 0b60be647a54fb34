#pragma once
// Where the pipeline's records come from: the embedded simulator or Kafka.
// Plain C++; the source actor drives it on a timer.

#include "pipeline/stream/work_item.h"

#include <map>
#include <vector>

namespace vigil::connectors {

using pipeline::partition_positions;
using pipeline::steady_now_ns;
using pipeline::work_batch;
using pipeline::work_item;

class record_source {
 public:
  virtual ~record_source() = default;
  /// Appends up to `max` records that are available now; never blocks long.
  virtual std::size_t poll(work_batch& out, std::size_t max) = 0;
  /// Stop fetching (credit exhausted) / start again. Polling continues while
  /// paused so that group membership stays alive.
  virtual void pause() {}
  virtual void resume() {}
  /// Everything before these positions is delivered and checkpointed.
  virtual void commit(const partition_positions& positions) { (void)positions; }
  /// Next position to read of every partition this source owns now.
  virtual partition_positions positions() const = 0;
  /// Continue from positions restored at start.
  virtual void seek(const partition_positions& positions) { (void)positions; }
  /// True when a finite source has produced everything.
  virtual bool exhausted() const { return false; }

  // Partition ownership (a consumer group rebalancing). A newly assigned
  // partition waits until the pipeline has installed its state; a revoked
  // one is read no further and waits until its state is checkpointed.
  /// Partitions assigned and waiting for their state.
  virtual std::vector<std::int32_t> pending_assignment() const { return {}; }
  /// Starts reading the pending partitions at these positions (a partition
  /// without one starts at the group's committed offset).
  virtual void complete_assignment(const partition_positions& positions) { (void)positions; }
  /// Partitions being revoked; records of them are no longer returned.
  virtual std::vector<std::int32_t> pending_revocation() const { return {}; }
  /// True when the pending revocation is a lost assignment: another member
  /// may own the partitions already, so they must not be checkpointed.
  virtual bool revocation_lost() const { return false; }
  /// Lets the revoked partitions go.
  virtual void complete_revocation() {}
  /// The partitions this source reads now (assigned and started, revoked
  /// ones until they are let go): the one record of ownership.
  virtual std::vector<std::int32_t> owned_partition_list() const {
    std::vector<std::int32_t> out;
    for (const auto& [partition, offset] : positions())
      out.push_back(partition);
    return out;
  }
  std::size_t owned_partitions() const { return owned_partition_list().size(); }
  /// How many partitions the input topic has (0: not partitioned, or not
  /// known yet), which a key's partition depends on.
  virtual std::int32_t topic_partitions() { return 0; }
};

} // namespace vigil::connectors
