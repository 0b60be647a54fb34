#pragma once
// The retrain coordinator: logs every scored vector, joins feedback labels
// with it, feeds labels to merchant state, and retrains (on a daily UTC
// schedule, after N new labels, or on demand) off the actor threads. A
// challenger that beats the champion on the most recent labelled slice by
// the configured margin is registered, promoted and hot-swapped into every
// scorer; otherwise it stays a candidate. Live drift of the served model is
// published from here, and can trigger a run too.

#include "actors/pipeline/actor_interfaces.h"

#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace vigil::connectors {
struct scored_history;
}
namespace vigil::models {
class drift_view;
class label_quality;
}

namespace vigil::actors {

/// What a clustered node's coordinator needs of the cluster.
struct coordinator_cluster {
  /// "" when this node holds the coordinator's lease (it retrains), else
  /// the node that does ("(none)" when not known).
  std::function<std::string()> coordinator;
  /// The linked peers, by node name.
  std::function<std::map<std::string, cluster_peer_actor>()> peers;
  /// Whether this node reads the partition of `user_id`'s records now: only
  /// that node applies a label to user and merchant state.
  std::function<bool(const std::string& user_id)> reads_user;
};

struct retrain_wiring {
  std::vector<merchant_shard_actor> merchant_shards;  ///< receive labels
  std::vector<user_shard_actor> user_shards;          ///< receive labels too (the user's own risk)
  serving_model_actor model_owner;          ///< the champion; swaps in a promoted model
  config_ptr config;
  /// Live drift of the served model (the cluster's in a cluster); may be
  /// null. Published to /metrics every second, and a retraining trigger
  /// when drift_retrain_psi is set.
  std::shared_ptr<const models::drift_view> drift;
  /// Precision and recall of served decisions by label week; may be null.
  std::shared_ptr<models::label_quality> label_quality;
  /// Null for a node alone: it retrains, and labels concern it only.
  std::shared_ptr<const coordinator_cluster> cluster;
};

/// Messages: (decisions, id, decision_batch_ptr) from the sink; (label,
/// label_batch_ptr) -> label_receipt; (rlabels, label_batch_ptr): restored
/// labels, joined for retraining only (merchant state already holds what its
/// checkpoint saw), except those already joined live since the start;
/// (retrain) -> retrain_start; (status) -> retrain_status (the champion is
/// the model owner's); (config, config_ptr). In a cluster, /feedback's
/// labels are also sent to every peer, whose coordinators join those they
/// scored; each joined label's row goes to every peer, so the one node
/// holding the coordinator's lease retrains on all of them, and fails over
/// with nothing to rebuild. Schedules, label counts and drift start runs on
/// that node only; an on-demand retrain elsewhere is passed on to it.
retrain_coordinator_actor spawn_retrain_coordinator(caf::actor_system& sys, retrain_wiring wiring);

/// Runs `read` on a thread of its own at the lowest CPU priority (seconds
/// for a long history; it must not slow the live stream) and hands the
/// result to the coordinator: the decisions are logged, then the labels
/// joined to them. Feedback sent before it lands reports unknown ids.
/// Setting the returned flag cancels the read (a stopping node).
std::shared_ptr<std::atomic<bool>> restore_scored_history(
  caf::actor_system& sys, retrain_coordinator_actor coordinator,
  std::function<connectors::scored_history(const std::atomic<bool>& cancel)> read);

/// Whether a daily schedule "HH:MM" (UTC) fell in (last_check_ms, now_ms].
bool schedule_due(const std::string& hh_mm, std::int64_t last_check_ms, std::int64_t now_ms);

} // namespace vigil::actors
