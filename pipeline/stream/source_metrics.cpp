#include "pipeline/stream/source_metrics.h"

namespace vigil::pipeline {

source_metrics::source_metrics()
  : records_in(metrics().get_counter("vigil_records_in_total", "Records read by the source")),
    ticks(metrics().get_counter("vigil_source_polls_total", "Source poll rounds (timer ticks)")),
    in_flight(metrics().get_gauge("vigil_in_flight_batches", "Batches between source and sink (credit in use)")),
    paused(metrics().get_gauge("vigil_source_paused", "1 while the source's input is paused for lack of credit")),
    paused_ms(metrics().get_counter("vigil_source_paused_milliseconds_total", "Time the input spent paused")),
    drained(metrics().get_gauge("vigil_source_drained", "1 once a finite source is fully delivered and checkpointed")),
    checkpoints(metrics().get_counter("vigil_checkpoints_total", "Checkpoints saved")),
    checkpoint_failures(metrics().get_counter("vigil_checkpoint_failures_total",
                                              "Checkpoints that could not be taken or stored")),
    partitions_restored(metrics().get_counter("vigil_partitions_restored_total",
                                              "Partitions assigned and restored from their checkpoint")),
    partitions_released(metrics().get_counter("vigil_partitions_released_total",
                                              "Partitions revoked and released after their checkpoint")),
    restore_failures(metrics().get_counter("vigil_partition_restore_failures_total",
                                           "Attempts to restore assigned partitions that failed (retried)")),
    owned_partitions(metrics().get_gauge("vigil_partitions_owned", "Input partitions this node reads")),
    checkpoint_entries(metrics().get_counter("vigil_checkpoint_entries_total",
                                             "Users and merchants written by checkpoints (changed ones only)")),
    last_checkpoint_time(metrics().get_gauge("vigil_last_checkpoint_timestamp_seconds",
                                             "Unix time of the last stored checkpoint (alert when it grows old)")),
    checkpoint_seconds(metrics().get_histogram("vigil_checkpoint_seconds",
                                               "Pipeline pause to copy state at a checkpoint (drain excluded)")) {}

} // namespace vigil::pipeline
