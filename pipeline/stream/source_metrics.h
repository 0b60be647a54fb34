#pragma once
// The metrics a pipeline source writes (never reads back as state).

#include "pipeline/metrics/metrics_registry.h"

namespace vigil::pipeline {

struct source_metrics {
  /// Registers every source metric in the process registry.
  source_metrics();

  counter& records_in;
  counter& ticks;
  gauge& in_flight;
  gauge& paused;
  counter& paused_ms;
  gauge& drained;
  counter& checkpoints;
  counter& checkpoint_failures;
  counter& partitions_restored;
  counter& partitions_released;
  counter& restore_failures;
  gauge& owned_partitions;
  counter& checkpoint_entries;
  gauge& last_checkpoint_time;
  histogram& checkpoint_seconds;
};

} // namespace vigil::pipeline
