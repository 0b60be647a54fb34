// The peer actor a node hands to members that joined: its status, and
// /predict calls forwarded to it because it reads the users' partitions,
// merchant requests for the global merchant shards it holds, and what its
// retrain coordinator takes from the other members' (labels, labelled rows,
// a retrain passed on).

#include "actors/cluster/cluster_gate.h"

#include "actors/cluster/predict_router.h"
#include "actors/pipeline/vigil_atoms.h"
#include "pipeline/schema/transaction_json.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

constexpr auto local_timeout = std::chrono::seconds(1);

using decisions_promise = caf::typed_response_promise<std::vector<std::string>>;

struct peer_state {
  std::uint64_t last_call = 0;
  std::map<std::uint64_t, decisions_promise> waiting;  ///< forwarded calls in the gateway
};

using peer_ptr = cluster_peer_actor::stateful_pointer<peer_state>;

caf::result<cluster::node_status> status(peer_ptr self, const peer_identity& who, source_actor source,
                                         serving_model_actor model_owner) {
  auto promise = self->make_response_promise<cluster::node_status>();
  auto status = std::make_shared<cluster::node_status>();
  status->node_name = who.node_name;
  status->incarnation = who.incarnation;
  status->config_version = who.config_version->load();
  status->settings_version = who.settings_version->load();
  if (auto held = who.merchant_shards->current())
    status->merchant_shards = *held;
  self->request(source, local_timeout, partitions_atom::value)
    .then(
      [=](partition_ownership_ptr ownership) mutable {
        status->partitions = ownership->read;
        status->topic_partitions = ownership->topic_partitions;
        self->request(model_owner, local_timeout, caf::get_atom::value)
          .then(
            [=](model_ptr model) mutable {
              status->model_version = model ? model->version : 0;
              promise.deliver(*status);
            },
            [=](caf::error& e) mutable { promise.deliver(std::move(e)); });
      },
      [=](caf::error& e) mutable { promise.deliver(std::move(e)); });
  return promise;
}

caf::result<std::vector<std::string>> predict(peer_ptr self, const peer_identity& who,
                                              predict_gateway_actor gateway, const std::vector<std::string>& texts,
                                              std::int32_t flags) {
  auto job = std::make_shared<http::predict_job>();
  job->received_ns = steady_now_ns();
  for (const auto& text : texts) {
    auto parsed = pipeline::parse_transaction(text);
    if (!parsed.ok())
      return caf::make_error(caf::sec::invalid_argument, "a forwarded transaction is invalid: " + parsed.message());
    job->transactions.push_back(std::move(parsed.value->tx));
  }
  http::predict_call call;
  set_predict_flags(flags, call);
  job->update = call.update;
  job->explain = call.explain;
  job->features = call.features;
  job->expensive = call.explain;  // explanations wait on this node's expensive lane
  if (auto why = not_read_here(job->transactions, who.ownership.get(), who.partitioner, who.node_name);
      !why.empty())
    return caf::make_error(caf::sec::runtime_error, why);
  auto promise = self->make_response_promise<std::vector<std::string>>();
  auto call_id = ++self->state.last_call;
  self->state.waiting.emplace(call_id, promise);
  job->done = [me = caf::actor_cast<cluster_peer_actor>(self), call_id](http::outcome<std::vector<std::string>> r) {
    caf::anon_send(me, predicted_atom::value, call_id,
                   predict_outcome_ptr{std::make_shared<const http::outcome<std::vector<std::string>>>(std::move(r))});
  };
  self->send(gateway, predict_atom::value, job);
  return promise;
}

} // namespace

cluster_peer_actor spawn_cluster_peer(caf::actor_system& sys, peer_identity who, source_actor source,
                                      serving_model_actor model_owner, predict_gateway_actor gateway,
                                      merchant_host_actor merchant_host, retrain_coordinator_actor coordinator) {
  return sys.spawn([who = std::move(who), source, model_owner, gateway, merchant_host,
                    coordinator](peer_ptr self) -> cluster_peer_actor::behavior_type {
    return {
      [=](peer_labels_atom, std::vector<pipeline::label_event>& labels) {
        return self->delegate(coordinator, peer_labels_atom::value,
                              label_batch_ptr{std::make_shared<const std::vector<pipeline::label_event>>(
                                std::move(labels))});
      },
      [=](labelled_rows_atom, std::vector<shared_label_row>& rows) {
        self->send(coordinator, labelled_rows_atom::value,
                   shared_label_rows_ptr{std::make_shared<const std::vector<shared_label_row>>(std::move(rows))});
      },
      [=](peer_retrain_atom) { return self->delegate(coordinator, peer_retrain_atom::value); },
      [=](node_status_atom) { return status(self, who, source, model_owner); },
      [=](merchant_apply_atom, std::vector<std::int32_t>& shards, std::vector<std::string>& updates) {
        return self->delegate(merchant_host, merchant_apply_atom::value, std::move(shards), std::move(updates));
      },
      [=](merchant_sync_atom, std::int32_t shard) {
        return self->delegate(merchant_host, merchant_sync_atom::value, shard);
      },
      [=](predict_atom, const std::vector<std::string>& texts, std::int32_t flags) {
        return predict(self, who, gateway, texts, flags);
      },
      [=](predicted_atom, std::uint64_t call_id, predict_outcome_ptr outcome) {
        auto it = self->state.waiting.find(call_id);
        if (it == self->state.waiting.end())
          return;
        if (auto* e = std::get_if<vigil_error>(outcome.get()))
          it->second.deliver(caf::make_error(caf::sec::runtime_error, std::string(to_string(e->code)) + ": " + e->what()));
        else
          it->second.deliver(std::get<std::vector<std::string>>(*outcome));
        self->state.waiting.erase(it);
      },
    };
  });
}

} // namespace vigil::actors
