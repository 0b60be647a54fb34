#include "actors/cluster/merchant_client.h"

#include "actors/cluster/merchant_host.h"
#include "actors/pipeline/vigil_atoms.h"
#include "pipeline/cluster/merchant_placement.h"
#include "pipeline/cluster/merchant_request_queue.h"
#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/stream/keyed_shards.h"

#include <caf/all.hpp>

#include <algorithm>
#include <iostream>
#include <set>

namespace vigil::actors {
namespace {

using namespace std::chrono_literals;

static_assert(cluster::merchant_shard_count == 64, "config validation of merchant_shards assumes 64");

/// Longer than a holder's Redis timeout would make a dead holder stall its
/// shards longer; shorter would retry requests a live holder still works on
/// (harmless for records, which carry their offsets; a label could count
/// twice).
constexpr auto request_timeout = 6s;
constexpr auto retry_after = 100ms;
constexpr auto sync_patience = 10s;

struct sync_round {
  caf::typed_response_promise<snapshot_ptr> promise;
  std::set<int> waiting;  ///< shards not confirmed yet
  std::vector<int> again;  ///< shards to ask again at the next tick
  std::chrono::steady_clock::time_point give_up_at;
};

struct client_state {
  std::unique_ptr<pipeline::batch_assembler> assembler;
  std::unique_ptr<cluster::merchant_request_queue> queue;
  std::vector<scorer_actor> scorers;
  int index = 0;
  std::shared_ptr<const predict_route_board> routes;
  bool retry_scheduled = false;
  std::set<int> unsynced;  ///< shards sent records since the last checkpoint's sync
  std::optional<sync_round> sync;  ///< the checkpoint's sync under way
  std::int64_t last_complaint_ns = 0;
  pipeline::gauge* pending = nullptr;
  pipeline::gauge* waiting = nullptr;
  pipeline::gauge* mailbox = nullptr;
  pipeline::counter* retries = nullptr;
  /// Stream requests, and the bytes of their updates, by where the holder is.
  pipeline::counter *to_self = nullptr, *to_peer = nullptr, *bytes_to_self = nullptr, *bytes_to_peer = nullptr;
};

using client_ptr = merchant_shard_actor::stateful_pointer<client_state>;

void pump(client_ptr self);

void to_scorers(client_ptr self, cluster::merchant_request_queue::completed done) {
  auto& s = self->state;
  for (auto& [id, items] : done) {
    auto scorer = s.scorers[(id * 31 + static_cast<std::uint64_t>(s.index)) % s.scorers.size()];
    self->send(scorer, score_atom::value, id, std::make_shared<work_batch>(std::move(items)));
  }
  s.waiting->set(static_cast<double>(s.queue->waiting_batches()));
}

void schedule_retry(client_ptr self) {
  if (self->state.retry_scheduled)
    return;
  self->state.retry_scheduled = true;
  self->delayed_send(self, retry_after, tick_atom::value);
}

void failed(client_ptr self, int shard, const std::string& why) {
  auto& s = self->state;
  s.queue->failed(shard);
  s.retries->add(1);
  // One line a minute at most: a holder that is gone fails every 100 ms.
  auto now = steady_now_ns();
  if (now - s.last_complaint_ns > 60'000'000'000) {
    s.last_complaint_ns = now;
    std::cerr << "vigil: merchant shard " << shard << " not answered (retrying every 100 ms): " << why << "\n";
  }
  schedule_retry(self);
}

// The sendable shards grouped by the member holding them: one request per
// holder, whatever number of its shards have updates queued.
using holder_shards = std::vector<std::pair<cluster_peer_actor, std::vector<std::int32_t>>>;

void add_to_holder(holder_shards& by_holder, const cluster_peer_actor& target, std::int32_t shard) {
  auto it = std::find_if(by_holder.begin(), by_holder.end(), [&](const auto& h) { return h.first == target; });
  if (it == by_holder.end())
    by_holder.push_back({target, {shard}});
  else
    it->second.push_back(shard);
}

void answered(client_ptr self, const std::vector<std::int32_t>& shards, merchant_answers& answers) {
  if (answers.features.size() != shards.size() || answers.refusals.size() != shards.size()) {
    for (auto shard : shards)
      failed(self, shard, "an answer that does not cover the request's shards");
    return;
  }
  for (std::size_t i = 0; i < shards.size(); ++i) {
    if (!answers.refusals[i].empty()) {
      failed(self, shards[i], answers.refusals[i]);
      continue;
    }
    auto done = self->state.queue->answered(shards[i], answers.features[i]);
    if (!done) {
      failed(self, shards[i], "an answer without one set of features per record");
      continue;
    }
    to_scorers(self, std::move(*done));
  }
}

void pump(client_ptr self) {
  auto& s = self->state;
  auto routes = s.routes->current();
  holder_shards by_holder;
  for (int shard : s.queue->sendable()) {
    auto target = routes ? merchant_shard_route(*routes, shard) : cluster_peer_actor{};
    if (!target)
      failed(self, shard, "no member holds it yet");
    else
      add_to_holder(by_holder, target, shard);
  }
  for (auto& [target, shards] : by_holder) {
    std::vector<std::string> requests;
    std::size_t bytes = 0;
    for (auto shard : shards) {
      s.unsynced.insert(shard);
      requests.push_back(s.queue->take_request(shard));
      bytes += requests.back().size();
    }
    const bool here = target == routes->local;
    (here ? s.to_self : s.to_peer)->add(1);
    (here ? s.bytes_to_self : s.bytes_to_peer)->add(bytes);
    self->request(target, request_timeout, merchant_apply_atom::value, shards, std::move(requests))
      .then(
        [=](merchant_answers& answers) {
          answered(self, shards, answers);
          pump(self);
        },
        [=](caf::error& e) {
          auto why = self->system().render(e);
          for (auto shard : shards)
            failed(self, shard, why);
        });
  }
}

// /predict: straight to the holders, beside the stream's queue (a read, or
// an HTTP update, has no offset to keep in order).
caf::result<batch_ptr> predict(client_ptr self, batch_ptr batch, bool update) {
  if (batch->empty())
    return batch;
  std::map<int, std::vector<std::size_t>> by_shard;
  for (std::size_t i = 0; i < batch->size(); ++i)
    by_shard[cluster::merchant_shard_of((*batch)[i].tx.merchant_id)].push_back(i);
  auto routes = self->state.routes->current();
  holder_shards by_holder;
  for (const auto& [shard, indices] : by_shard) {
    auto target = routes ? merchant_shard_route(*routes, shard) : cluster_peer_actor{};
    if (!target)
      return caf::make_error(caf::sec::runtime_error,
                             "merchant shard " + std::to_string(shard) + " has no holder yet");
    add_to_holder(by_holder, target, shard);
  }
  auto promise = self->make_response_promise<batch_ptr>();
  auto remaining = std::make_shared<std::size_t>(by_holder.size());
  auto failed_once = std::make_shared<bool>(false);
  auto fail = [=](caf::error e) mutable {
    if (std::exchange(*failed_once, true))
      return;
    promise.deliver(std::move(e));
  };
  for (auto& [target, shards] : by_holder) {
    std::vector<std::string> requests;
    for (auto shard : shards) {
      std::vector<cluster::merchant_update> updates;
      for (auto i : by_shard.at(shard))
        updates.push_back(cluster::merchant_update_of((*batch)[i], update));
      requests.push_back(cluster::encode_merchant_updates(updates));
    }
    self->request(target, request_timeout, merchant_apply_atom::value, shards, std::move(requests))
      .then(
        [=](merchant_answers& answers) mutable {
          if (*failed_once)
            return;
          if (answers.features.size() != shards.size() || answers.refusals.size() != shards.size())
            return fail(caf::make_error(caf::sec::runtime_error, "a merchant answer of the wrong size"));
          for (std::size_t k = 0; k < shards.size(); ++k) {
            if (!answers.refusals[k].empty())
              return fail(caf::make_error(caf::sec::runtime_error, answers.refusals[k]));
            const auto& indices = by_shard.at(shards[k]);
            const auto& features = answers.features[k];
            if (features.size() != indices.size() * cluster::merchant_feature_count)
              return fail(caf::make_error(caf::sec::runtime_error, "a merchant answer of the wrong size"));
            for (std::size_t j = 0; j < indices.size(); ++j)
              cluster::take_merchant_features(features.data() + j * cluster::merchant_feature_count,
                                              (*batch)[indices[j]].features);
          }
          if (--*remaining == 0)
            promise.deliver(batch);
        },
        [=](caf::error& e) mutable { fail(std::move(e)); });
  }
  return promise;
}

// At the source's checkpoint barrier (nothing in flight): an empty
// snapshot once every shard this one sent records to since the last
// checkpoint has them in Redis, else an error, and the checkpoint is not
// stored (it would cover changes a holder's death could lose). A shard
// between holders (the old one checkpointed it and let go, the new one has
// not claimed it yet) is asked again every 100 ms, for sync_patience.

void ask_sync(client_ptr self, int shard);

void end_sync(client_ptr self, const std::string& failure) {
  auto& s = self->state;
  auto round = std::move(*s.sync);
  s.sync.reset();
  if (failure.empty()) {
    round.promise.deliver(snapshot_ptr{std::make_shared<pipeline::store_snapshot>()});
    return;
  }
  s.unsynced.insert(round.waiting.begin(), round.waiting.end());  // the next checkpoint asks again
  round.promise.deliver(caf::make_error(caf::sec::runtime_error, failure));
}

void sync_failed(client_ptr self, int shard, const std::string& why) {
  auto& s = self->state;
  if (!s.sync)
    return;
  if (std::chrono::steady_clock::now() >= s.sync->give_up_at)
    return end_sync(self, "merchant shard " + std::to_string(shard) + " has changes not yet in Redis: " + why);
  s.sync->again.push_back(shard);
  schedule_retry(self);
}

void ask_sync(client_ptr self, int shard) {
  auto routes = self->state.routes->current();
  auto target = routes ? merchant_shard_route(*routes, shard) : cluster_peer_actor{};
  if (!target)
    return sync_failed(self, shard, "no member holds it");
  self->request(target, request_timeout, merchant_sync_atom::value, static_cast<std::int32_t>(shard))
    .then(
      [=](bool synced) {
        if (!synced)
          return sync_failed(self, shard, "Redis unreachable");
        auto& s = self->state;
        if (!s.sync)
          return;
        s.sync->waiting.erase(shard);
        if (s.sync->waiting.empty())
          end_sync(self, "");
      },
      [=](caf::error& e) { sync_failed(self, shard, self->system().render(e)); });
}

caf::result<snapshot_ptr> sync_for_checkpoint(client_ptr self) {
  auto& s = self->state;
  if (s.unsynced.empty())
    return snapshot_ptr{std::make_shared<pipeline::store_snapshot>()};
  if (s.sync)
    return caf::make_error(caf::sec::runtime_error, "a checkpoint's merchant sync is still running");
  s.sync = sync_round{self->make_response_promise<snapshot_ptr>(), std::move(s.unsynced), {},
                      std::chrono::steady_clock::now() + sync_patience};
  s.unsynced.clear();
  auto promise = s.sync->promise;
  for (int shard : std::set<int>(s.sync->waiting))
    ask_sync(self, shard);
  return promise;
}

merchant_shard_actor::behavior_type run_client(client_ptr self, int index, int user_shard_count,
                                               std::vector<scorer_actor> scorers,
                                               std::shared_ptr<const predict_route_board> routes) {
  auto& s = self->state;
  s.assembler = std::make_unique<pipeline::batch_assembler>(user_shard_count);
  s.queue = std::make_unique<cluster::merchant_request_queue>();
  s.scorers = std::move(scorers);
  s.index = index;
  s.routes = std::move(routes);
  auto shard_label = "shard=\"" + std::to_string(index) + "\"";
  s.pending = &pipeline::metrics().get_gauge("vigil_merchant_pending_batches{" + shard_label + "}",
                                             "Batches waiting for parts from user shards");
  s.waiting = &pipeline::metrics().get_gauge("vigil_merchant_remote_batches{" + shard_label + "}",
                                             "Batches waiting for merchant features from the shards' holders");
  s.mailbox = &pipeline::metrics().get_gauge(
    "vigil_mailbox_depth{actor=\"merchant\",index=\"" + std::to_string(index) + "\"}",
    "Messages waiting in an actor's mailbox (sampled when it handles one)");
  auto& m = pipeline::metrics();
  const char* requests_help = "Merchant requests of the stream, by where the shard's holder is (this node or a peer)";
  const char* bytes_help = "Bytes of merchant updates sent by the stream, by where the shard's holder is";
  s.to_self = &m.get_counter("vigil_merchant_requests_total{holder=\"self\"}", requests_help);
  s.to_peer = &m.get_counter("vigil_merchant_requests_total{holder=\"peer\"}", requests_help);
  s.bytes_to_self = &m.get_counter("vigil_merchant_request_bytes_total{holder=\"self\"}", bytes_help);
  s.bytes_to_peer = &m.get_counter("vigil_merchant_request_bytes_total{holder=\"peer\"}", bytes_help);
  s.retries = &pipeline::metrics().get_counter(
    "vigil_merchant_request_retries_total", "Merchant requests retried: the shard's holder was unreachable or "
                                            "refused (not holding it yet)");
  return {
    [=](merchant_part_atom, std::uint64_t batch_id, batch_ptr part) {
      auto& s = self->state;
      s.mailbox->set(static_cast<double>(self->mailbox().size()));
      for (auto& [id, items] : s.assembler->add(batch_id, std::move(*part)))
        to_scorers(self, s.queue->add_batch(id, std::move(items)));
      s.pending->set(static_cast<double>(s.assembler->pending()));
      s.waiting->set(static_cast<double>(s.queue->waiting_batches()));
      pump(self);
    },
    [=](merchant_label_atom, const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud) {
      self->state.queue->add_label(merchant_id, event_time_ms, is_fraud);
      pump(self);
    },
    [=](predict_atom, batch_ptr batch, bool update) { return predict(self, std::move(batch), update); },
    // Merchant state lives with the shards' holders, checkpointed there.
    [=](snapshot_atom, bool) { return sync_for_checkpoint(self); },
    [=](config_atom, config_ptr) {},
    [=](tick_atom) {
      auto& s = self->state;
      s.retry_scheduled = false;
      if (s.sync)
        for (int shard : std::exchange(s.sync->again, {}))
          ask_sync(self, shard);
      pump(self);
    },
  };
}

} // namespace

merchant_shard_actor spawn_merchant_client(caf::actor_system& sys, int index, int user_shard_count,
                                           std::vector<scorer_actor> scorers,
                                           std::shared_ptr<const predict_route_board> routes) {
  return sys.spawn(run_client, index, user_shard_count, std::move(scorers), std::move(routes));
}

} // namespace vigil::actors
