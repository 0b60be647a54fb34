#pragma once
// Every atom and message type of Vigil's actors, declared once.
// Data-plane batches are shared pointers that never leave their node, so they
// are whitelisted as local-only message types. What crosses nodes (the
// cluster's join and status) is plain values with inspect(), registered by
// name in cluster_message_types.

#include "actors/pipeline/pipeline_messages.h"
#include "http/predict_job.h"
#include "pipeline/cluster/cluster_view.h"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

namespace vigil::actors {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, label_receipt& x) {
  return f(caf::meta::type_name("label_receipt"), x.accepted, x.joined, x.unknown_transaction_ids);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, merchant_answers& x) {
  return f(caf::meta::type_name("merchant_answers"), x.features, x.refusals);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_label_row& x) {
  return f(caf::meta::type_name("shared_label_row"), x.transaction_id, x.merchant_id, x.user_id, x.event_time_ms,
           x.flagged, x.features, x.is_fraud, x.label_time_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retrain_start& x) {
  return f(caf::meta::type_name("retrain_start"), x.status, x.trigger, x.labelled_rows, x.needed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retrain_outcome& x) {
  return f(caf::meta::type_name("retrain_outcome"), x.outcome, x.summary, x.trigger, x.version,
           x.challenger_pr_auc, x.champion_pr_auc, x.finished_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retrain_status& x) {
  return f(caf::meta::type_name("retrain_status"), x.running, x.labelled_rows, x.scored_logged,
           x.labelled_rows_restored, x.champion_version, x.runs);
}

using cluster_view_ptr = std::shared_ptr<const cluster::cluster_view>;
/// A /predict job's answer, handed back to the actor that submitted it.
using predict_outcome_ptr = std::shared_ptr<const http::outcome<std::vector<std::string>>>;

} // namespace vigil::actors

namespace vigil::cluster {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("vigil::cluster::node_status"), x.node_name, x.incarnation, x.partitions,
           x.topic_partitions, x.config_version, x.settings_version, x.model_version, x.merchant_shards);
}

} // namespace vigil::cluster

namespace vigil::pipeline {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, label_event& x) {
  return f(caf::meta::type_name("vigil::pipeline::label_event"), x.transaction_id, x.is_fraud, x.source,
           x.label_time_ms);
}

} // namespace vigil::pipeline

CAF_BEGIN_TYPE_ID_BLOCK(vigil, caf::first_custom_type_id)
  CAF_ADD_ATOM(vigil, vigil::actors, user_batch_atom, "ubatch")
  CAF_ADD_ATOM(vigil, vigil::actors, merchant_part_atom, "mpart")
  CAF_ADD_ATOM(vigil, vigil::actors, score_atom, "score")
  CAF_ADD_ATOM(vigil, vigil::actors, decisions_atom, "decisions")
  CAF_ADD_ATOM(vigil, vigil::actors, batch_done_atom, "done")
  CAF_ADD_ATOM(vigil, vigil::actors, tick_atom, "tick")
  CAF_ADD_ATOM(vigil, vigil::actors, snapshot_atom, "snapshot")
  CAF_ADD_ATOM(vigil, vigil::actors, model_atom, "model")
  CAF_ADD_ATOM(vigil, vigil::actors, config_atom, "config")
  CAF_ADD_ATOM(vigil, vigil::actors, label_atom, "label")
  CAF_ADD_ATOM(vigil, vigil::actors, restored_labels_atom, "rlabels")
  CAF_ADD_ATOM(vigil, vigil::actors, merchant_label_atom, "mlabel")
  CAF_ADD_ATOM(vigil, vigil::actors, user_label_atom, "ulabel")
  CAF_ADD_ATOM(vigil, vigil::actors, predict_atom, "predict")
  CAF_ADD_ATOM(vigil, vigil::actors, drained_atom, "drained")
  CAF_ADD_ATOM(vigil, vigil::actors, subscribe_atom, "subscribe")
  CAF_ADD_ATOM(vigil, vigil::actors, listen_atom, "listen")
  CAF_ADD_ATOM(vigil, vigil::actors, retrain_atom, "retrain")
  CAF_ADD_ATOM(vigil, vigil::actors, retrained_atom, "retrained")
  CAF_ADD_ATOM(vigil, vigil::actors, status_atom, "status")
  CAF_ADD_ATOM(vigil, vigil::actors, saved_atom, "saved")
  CAF_ADD_ATOM(vigil, vigil::actors, install_atom, "install")
  CAF_ADD_ATOM(vigil, vigil::actors, revoke_atom, "revoke")
  CAF_ADD_ATOM(vigil, vigil::actors, quiesce_atom, "quiesce")
  CAF_ADD_ATOM(vigil, vigil::actors, partitions_atom, "partitions")
  CAF_ADD_ATOM(vigil, vigil::actors, join_atom, "join")
  CAF_ADD_ATOM(vigil, vigil::actors, node_status_atom, "nstatus")
  CAF_ADD_ATOM(vigil, vigil::actors, members_atom, "members")
  CAF_ADD_ATOM(vigil, vigil::actors, predicted_atom, "predicted")
  CAF_ADD_ATOM(vigil, vigil::actors, merchant_apply_atom, "mapply")
  CAF_ADD_ATOM(vigil, vigil::actors, merchant_sync_atom, "msync")
  CAF_ADD_ATOM(vigil, vigil::actors, peer_labels_atom, "plabels")
  CAF_ADD_ATOM(vigil, vigil::actors, labelled_rows_atom, "lrows")
  CAF_ADD_ATOM(vigil, vigil::actors, peer_retrain_atom, "pretrain")
  CAF_ADD_ATOM(vigil, vigil::actors, shadow_model_atom, "smodel")
  CAF_ADD_TYPE_ID(vigil, (vigil::actors::label_receipt))
  CAF_ADD_TYPE_ID(vigil, (vigil::actors::retrain_start))
  CAF_ADD_TYPE_ID(vigil, (vigil::actors::retrain_outcome))
  CAF_ADD_TYPE_ID(vigil, (vigil::actors::retrain_status))
  CAF_ADD_TYPE_ID(vigil, (vigil::actors::shared_label_row))
  CAF_ADD_TYPE_ID(vigil, (vigil::actors::merchant_answers))
CAF_END_TYPE_ID_BLOCK(vigil)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::decision_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::model_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::config_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::label_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::shared_label_rows_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::snapshot_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::partition_list_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::partition_ownership_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::predict_outcome_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::retrain_report_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::scored_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::http::predict_job_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::cluster_view_ptr)
