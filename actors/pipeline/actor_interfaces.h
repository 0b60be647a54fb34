#pragma once
// The typed actor interfaces of Vigil, declared in one place: every message
// has one meaning, replies are typed values, and wiring an actor to a
// handle of another interface fails to compile.

#include "actors/pipeline/vigil_atoms.h"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace vigil::actors {

/// Receives every published batch of decisions (the retrain coordinator).
using decision_listener_actor =
  caf::typed_actor<caf::reacts_to<decisions_atom, std::uint64_t, decision_batch_ptr>>;

/// Scorer pool member. (score, batch id, batch): scores a stream batch and
/// sends the decisions to the sink; (predict, batch, flagged_reasons) ->
/// the decisions and the model that made them; (model, next): swap between
/// batches; (smodel, model or null): the shadow's model (null = the served
/// one); (config, next).
using scorer_actor = caf::typed_actor<
  caf::reacts_to<score_atom, std::uint64_t, batch_ptr>,
  caf::replies_to<predict_atom, batch_ptr, bool>::with<scored_batch_ptr>,
  caf::reacts_to<model_atom, model_ptr>,
  caf::reacts_to<shadow_model_atom, model_ptr>,
  caf::reacts_to<config_atom, config_ptr>>;

/// Merchant shard. (mpart, batch id, part) from each user shard: joins the
/// parts of a batch, fills merchant features, hands it to a scorer;
/// (mlabel, merchant id, event time ms, is_fraud): a joined label;
/// (predict, batch, update) -> the batch with merchant features;
/// (snapshot, all) -> a copy of the merchants changed since the last one
/// (all of them with `all`); (config, next); (tick): a clustered shard
/// retries what it could not send.
using merchant_shard_actor = caf::typed_actor<
  caf::reacts_to<merchant_part_atom, std::uint64_t, batch_ptr>,
  caf::reacts_to<merchant_label_atom, std::string, std::int64_t, bool>,
  caf::replies_to<predict_atom, batch_ptr, bool>::with<batch_ptr>,
  caf::replies_to<snapshot_atom, bool>::with<snapshot_ptr>,
  caf::reacts_to<config_atom, config_ptr>,
  caf::reacts_to<tick_atom>>;

/// User shard. (ubatch, batch id, part) from the source: fills user
/// features, forwards the batch split by merchant to every merchant shard;
/// (predict, batch, update) -> the batch with transaction and user
/// features; (snapshot, all) -> a copy of the users changed since the last
/// one, with their partitions; (install, users) adds restored users;
/// (revoke, partitions) forgets their users; (ulabel, user id, event time
/// ms, is_fraud): a joined label; (config, next).
using user_shard_actor = caf::typed_actor<
  caf::reacts_to<user_batch_atom, std::uint64_t, batch_ptr>,
  caf::reacts_to<user_label_atom, std::string, std::int64_t, bool>,
  caf::replies_to<predict_atom, batch_ptr, bool>::with<batch_ptr>,
  caf::replies_to<snapshot_atom, bool>::with<snapshot_ptr>,
  caf::reacts_to<install_atom, snapshot_ptr>,
  caf::reacts_to<revoke_atom, partition_list_ptr>,
  caf::reacts_to<config_atom, config_ptr>>;

/// The head of the pipeline. (done, batch id) from the sink returns credit;
/// (saved, error) from its checkpoint writer ("" = stored); (snapshot) ->
/// true once a checkpoint taken after the request is stored; (quiesce) ->
/// the same, reading nothing after it; (drained) -> true once a finite
/// input is delivered and checkpointed; (partitions) -> the partitions it
/// reads now and the topic's count; (tick) drives it; (config, next).
using source_actor = caf::typed_actor<
  caf::reacts_to<tick_atom>,
  caf::replies_to<partitions_atom>::with<partition_ownership_ptr>,
  caf::reacts_to<batch_done_atom, std::uint64_t>,
  caf::reacts_to<saved_atom, std::string>,
  caf::replies_to<snapshot_atom>::with<bool>,
  caf::replies_to<quiesce_atom>::with<bool>,
  caf::replies_to<drained_atom>::with<bool>,
  caf::reacts_to<config_atom, config_ptr>>;

/// Publishes decisions. (decisions, batch id, decisions) from scorers;
/// (subscribe, source): where credit goes back; (listen, listener): also
/// receives every published batch; (tick) polls deliveries.
using sink_actor = caf::typed_actor<
  caf::reacts_to<decisions_atom, std::uint64_t, decision_batch_ptr>,
  caf::reacts_to<subscribe_atom, source_actor>,
  caf::reacts_to<listen_atom, decision_listener_actor>,
  caf::reacts_to<tick_atom>>;

/// Takes /predict jobs, coalesces them into passes through the user shards,
/// merchant shards and scorers (the stream's code path), and answers each
/// through its job's continuation; (tick) drives its watchdog.
using predict_gateway_actor =
  caf::typed_actor<caf::reacts_to<predict_atom, http::predict_job_ptr>, caf::reacts_to<tick_atom>>;

/// Owns the model being served, the one place that swaps it: (get) -> the
/// model now served; (model, next) -> swaps it into every scorer (taking
/// effect between batches), sets vigil_model_version, replies the version
/// served. Readiness, /models and the retrain coordinator ask it.
/// (smodel, model or null) is passed on to every scorer.
using serving_model_actor = caf::typed_actor<
  caf::replies_to<caf::get_atom>::with<model_ptr>,
  caf::replies_to<model_atom, model_ptr>::with<std::int32_t>,
  caf::reacts_to<shadow_model_atom, model_ptr>>;

/// The retrain coordinator (see retrain_coordinator.h): logs scored vectors,
/// joins labels, retrains. (label, labels) -> receipt; (rlabels, labels):
/// stored labels read back at start; (retrain) -> whether a run started;
/// (status) -> retraining state; (retrained, report) from its worker;
/// (tick) checks the schedule; (config, next). In a cluster: (plabels,
/// labels) -> receipt: labels another member received, joined here too and
/// not sent on; (lrows, rows): labelled rows other members joined;
/// (pretrain) -> retrain_start: a retrain another member passed on to this
/// node, the coordinator.
using retrain_coordinator_actor = decision_listener_actor::extend<
  caf::replies_to<label_atom, label_batch_ptr>::with<label_receipt>,
  caf::replies_to<peer_labels_atom, label_batch_ptr>::with<label_receipt>,
  caf::reacts_to<labelled_rows_atom, shared_label_rows_ptr>,
  caf::replies_to<peer_retrain_atom>::with<retrain_start>,
  caf::reacts_to<restored_labels_atom, label_batch_ptr>,
  caf::replies_to<retrain_atom>::with<retrain_start>,
  caf::replies_to<status_atom>::with<retrain_status>,
  caf::reacts_to<retrained_atom, retrain_report_ptr>,
  caf::reacts_to<tick_atom>,
  caf::reacts_to<config_atom, config_ptr>>;

/// A node's answer to its peers, handed out only by its gate:
/// (nstatus) -> what it reads and serves now; (predict, transactions as
/// JSON, flags) -> one rendered decision each, for users whose partitions
/// it reads (see predict_router.h); (mapply, ...), (msync, ...): as
/// merchant_host_actor; (plabels, labels), (lrows, rows), (pretrain): as the
/// retrain coordinator's, passed to this node's;
/// for the shards this node holds; (predicted, call id, outcome): its
/// gateway's answer to a forwarded call (local only).
using cluster_peer_actor = caf::typed_actor<
  caf::replies_to<node_status_atom>::with<cluster::node_status>,
  caf::replies_to<merchant_apply_atom, std::vector<std::int32_t>, std::vector<std::string>>::with<merchant_answers>,
  caf::replies_to<merchant_sync_atom, std::int32_t>::with<bool>,
  caf::replies_to<peer_labels_atom, std::vector<pipeline::label_event>>::with<label_receipt>,
  caf::reacts_to<labelled_rows_atom, std::vector<shared_label_row>>,
  caf::replies_to<peer_retrain_atom>::with<retrain_start>,
  caf::replies_to<predict_atom, std::vector<std::string>, std::int32_t>::with<std::vector<std::string>>,
  caf::reacts_to<predicted_atom, std::uint64_t, predict_outcome_ptr>>;

/// Holds this node's share of the cluster's global merchant shards (see
/// merchant_host.h): (mapply, shards, each one's encoded merchant updates)
/// -> per shard, the merchant features of each record, in order, or why
/// this node refused it (not held here; the sender retries), with the
/// changes of all of them logged in Redis in one call; (msync, shard) -> true
/// once every change it answered for the shard is in Redis; (tick) claims,
/// renews, checkpoints and gives up shards as membership changes; (config,
/// next).
using merchant_host_actor =
  caf::typed_actor<caf::replies_to<merchant_apply_atom, std::vector<std::int32_t>, std::vector<std::string>>::with<merchant_answers>,
                   caf::replies_to<merchant_sync_atom, std::int32_t>::with<bool>, caf::reacts_to<tick_atom>,
                   caf::reacts_to<config_atom, config_ptr>>;

/// The one actor a node publishes on its cluster port, so the one thing a
/// stranger who reaches the port can do is ask to join: (join, token) ->
/// the node's peer handle, or an invalid handle when the token is not the
/// cluster's (auth_token). (config, next): a rotated token.
using cluster_gate_actor = caf::typed_actor<caf::replies_to<join_atom, std::string>::with<cluster_peer_actor>,
                                            caf::reacts_to<config_atom, config_ptr>>;

/// Keeps this node registered and linked to every registered member:
/// (tick) announces, reads the registry, connects, asks each peer's status;
/// (members) -> the view; (config, next): a rotated token.
using membership_actor = caf::typed_actor<caf::reacts_to<tick_atom>,
                                          caf::replies_to<members_atom>::with<cluster_view_ptr>,
                                          caf::reacts_to<config_atom, config_ptr>>;

/// Shares this node's drift counts with the cluster and reads every
/// node's back (see drift_sharing.h): (tick) does one round.
using drift_sharing_actor = caf::typed_actor<caf::reacts_to<tick_atom>>;

} // namespace vigil::actors
