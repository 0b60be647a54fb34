#pragma once
// Data-plane payloads between pipeline stages. Plain C++ (no CAF): batches
// travel as shared pointers between actors of one node, so a batch of 256
// records costs one allocation, not 256 copies.

#include "models/serving/decision_policy.h"
#include "models/serving/scoring_model.h"
#include "pipeline/cluster/partition_owners.h"
#include "pipeline/features/feature_schema.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/schema/label_event.h"
#include "pipeline/schema/transaction.h"
#include "models/serving/decision_record.h"
#include "pipeline/stream/work_item.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::config {
struct runtime_config;
}

namespace vigil::actors {

// The plain types and parts the actors move and drive.
using models::decision_batch;
using models::decision_record;
using models::scored_batch;
using pipeline::partition_positions;
using pipeline::source_position;
using pipeline::steady_now_ns;
using pipeline::work_batch;
using pipeline::work_item;

using batch_ptr = std::shared_ptr<work_batch>;
using decision_batch_ptr = std::shared_ptr<decision_batch>;
using model_ptr = models::model_ptr;
using scored_batch_ptr = std::shared_ptr<scored_batch>;
using config_ptr = std::shared_ptr<const config::runtime_config>;
/// One shard's state copy at a checkpoint (users or merchants filled).
using snapshot_ptr = std::shared_ptr<pipeline::store_snapshot>;
/// Input partitions changing owner.
using partition_list_ptr = std::shared_ptr<const std::vector<std::int32_t>>;
using cluster::partition_ownership;
using cluster::partition_ownership_ptr;
using label_batch_ptr = std::shared_ptr<const std::vector<pipeline::label_event>>;

/// Outcome of one retraining run (worker -> coordinator).
struct retrain_report {
  bool trained = false, promoted = false;
  int version = 0;           ///< registered challenger, 0 when none
  std::string summary;       ///< reason, or the error
  model_ptr model;           ///< loaded challenger when promoted
  double challenger_pr_auc = 0, champion_pr_auc = 0;
};
using retrain_report_ptr = std::shared_ptr<const retrain_report>;

/// A label joined with the vector a node scored, sent to the other members
/// so that whichever node coordinates retraining learns from every node's
/// labelled traffic.
struct shared_label_row {
  std::string transaction_id, merchant_id, user_id;
  std::int64_t event_time_ms = 0;
  bool flagged = false;  ///< decided review or decline
  std::vector<float> features;  ///< exactly what was scored (feature_count values)
  bool is_fraud = false;
  std::int64_t label_time_ms = 0;
};
using shared_label_rows_ptr = std::shared_ptr<const std::vector<shared_label_row>>;

/// A merchant host's answer to one request that covers several global
/// shards, per shard in request order: the merchant features of each of its
/// records (its refusal empty), or why the host refused that shard (not
/// held there, its changes cannot reach Redis, malformed); the sender
/// retries a refused shard.
struct merchant_answers {
  std::vector<std::vector<float>> features;
  std::vector<std::string> refusals;
};

/// The coordinator's answer to feedback labels.
struct label_receipt {
  std::uint64_t accepted = 0, joined = 0;
  std::vector<std::string> unknown_transaction_ids;
};

/// The coordinator's answer to a request to retrain now.
struct retrain_start {
  std::string status;        ///< "started", "already running", "not enough labels"
  std::string trigger;       ///< when started
  std::uint64_t labelled_rows = 0, needed = 0;
};

/// The last finished retraining run ("" outcome: none yet).
struct retrain_outcome {
  std::string outcome, summary;  ///< outcome: "promoted", "rejected", "failed"
  std::int32_t version = 0;
  double challenger_pr_auc = 0, champion_pr_auc = 0;
  std::string trigger;  ///< what started the run ("drift: " with the reason)
  std::int64_t finished_ms = 0;  ///< wall clock
};

/// Retraining state, for GET /models.
struct retrain_status {
  bool running = false;
  std::uint64_t labelled_rows = 0, scored_logged = 0, labelled_rows_restored = 0;
  std::int32_t champion_version = 0;
  std::vector<retrain_outcome> runs;  ///< the last few finished runs, oldest first (champion against challenger)
};


} // namespace vigil::actors
