#pragma once
// Where the pipeline's records come from: the embedded simulator or Kafka.
// Plain C++; the source actor drives it on a timer.

#include "actors/pipeline/pipeline_messages.h"

#include <map>
#include <string>

namespace vigil::actors {

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
  virtual void commit(const std::map<std::string, std::int64_t>& positions) { (void)positions; }
  /// Next position to read, per input, as stored in snapshots.
  virtual std::map<std::string, std::int64_t> positions() const = 0;
  /// Continue from positions restored from a snapshot.
  virtual void seek(const std::map<std::string, std::int64_t>& positions) = 0;
  /// True when a finite source has produced everything.
  virtual bool exhausted() const { return false; }
};

} // namespace vigil::actors
