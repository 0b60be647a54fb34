#include "actors/pipeline/feature_actors.h"

#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

void register_key_gauges(const char* stage, int index, pipeline::gauge*& keys, pipeline::gauge*& forgotten) {
  auto labels = std::string("{stage=\"") + stage + "\",shard=\"" + std::to_string(index) + "\"}";
  keys = &pipeline::metrics().get_gauge("vigil_state_keys" + labels, "Keys held in state (sampled at checkpoints)");
  forgotten = &pipeline::metrics().get_gauge("vigil_state_keys_forgotten" + labels,
                                             "Keys forgotten: idle past their TTL, or over the bound on keys HTTP created");
}

struct user_feature_state {
  std::unique_ptr<pipeline::user_shard> shard;
  std::vector<merchant_shard_actor> merchant_shards;
  pipeline::gauge* late = nullptr;
  pipeline::gauge* mailbox = nullptr;
  pipeline::gauge* keys = nullptr;       ///< users held (sampled at checkpoints)
  pipeline::gauge* forgotten = nullptr;  ///< users forgotten (idle or over the HTTP bound)
};

user_shard_actor::behavior_type user_feature_actor(user_shard_actor::stateful_pointer<user_feature_state> self,
                                                   int index, std::vector<merchant_shard_actor> merchant_shards,
                                 std::int64_t lateness_ms, pipeline::state_bounds bounds, snapshot_ptr restored) {
  auto& st = self->state;
  st.shard = std::make_unique<pipeline::user_shard>(lateness_ms, bounds);
  if (restored)
    st.shard->install(std::move(*restored));
  st.merchant_shards = std::move(merchant_shards);
  st.late = &pipeline::metrics().get_gauge(
    "vigil_late_records{stage=\"user\",shard=\"" + std::to_string(index) + "\"}",
    "Records beyond allowed lateness, not applied to state");
  st.mailbox = &pipeline::metrics().get_gauge(
    "vigil_mailbox_depth{actor=\"user\",index=\"" + std::to_string(index) + "\"}",
    "Messages waiting in an actor's mailbox (sampled when it handles one)");
  register_key_gauges("user", index, st.keys, st.forgotten);
  return {
    [=](user_batch_atom, std::uint64_t batch_id, batch_ptr batch) {
      auto& s = self->state;
      s.mailbox->set(static_cast<double>(self->mailbox().size()));
      s.shard->process(*batch, true);
      s.late->set(static_cast<double>(s.shard->late_records()));
      auto n = static_cast<int>(s.merchant_shards.size());
      auto parts = pipeline::split_by_shard(*batch, n, [](const auto& item) -> auto& { return item.tx.merchant_id; });
      for (int j = 0; j < n; ++j)
        self->send(s.merchant_shards[j], merchant_part_atom::value, batch_id,
                   std::make_shared<work_batch>(std::move(parts[j])));
    },
    [=](predict_atom, batch_ptr batch, bool update) {
      self->state.shard->process(*batch, update);
      return batch;
    },
    [=](snapshot_atom, bool all) {
      auto& s = self->state;
      auto copy = std::make_shared<pipeline::store_snapshot>(s.shard->copy_state(all));
      s.keys->set(static_cast<double>(s.shard->users().size()));
      s.forgotten->set(static_cast<double>(s.shard->forgotten()));
      return snapshot_ptr{std::move(copy)};
    },
    [=](install_atom, snapshot_ptr restored) { self->state.shard->install(std::move(*restored)); },
    [=](revoke_atom, partition_list_ptr partitions) {
      self->state.shard->drop_partitions(*partitions);
    },
    [=](user_label_atom, const std::string& user_id, std::int64_t event_time_ms, bool is_fraud) {
      self->state.shard->apply_label(user_id, event_time_ms, is_fraud);
    },
    [=](config_atom, config_ptr c) { self->state.shard->set_allowed_lateness(c->allowed_lateness_ms); },
  };
}

struct merchant_feature_state {
  std::unique_ptr<pipeline::merchant_shard> shard;
  std::unique_ptr<pipeline::batch_assembler> assembler;
  std::vector<scorer_actor> scorers;
  int index = 0;
  pipeline::gauge* late = nullptr;
  pipeline::gauge* pending = nullptr;
  pipeline::gauge* mailbox = nullptr;
  pipeline::gauge* keys = nullptr;
  pipeline::gauge* forgotten = nullptr;
};

merchant_shard_actor::behavior_type merchant_feature_actor(
  merchant_shard_actor::stateful_pointer<merchant_feature_state> self, int index, int user_shard_count,
  std::vector<scorer_actor> scorers, std::int64_t lateness_ms, pipeline::state_bounds bounds,
                                     std::shared_ptr<merchant_map> restored) {
  auto& st = self->state;
  st.shard = std::make_unique<pipeline::merchant_shard>(lateness_ms, bounds);
  if (restored)
    st.shard->install(std::move(*restored));
  st.assembler = std::make_unique<pipeline::batch_assembler>(user_shard_count);
  st.scorers = std::move(scorers);
  st.index = index;
  auto shard_label = "shard=\"" + std::to_string(index) + "\"";
  st.late = &pipeline::metrics().get_gauge("vigil_late_records{stage=\"merchant\"," + shard_label + "}",
                                           "Records beyond allowed lateness, not applied to state");
  st.pending = &pipeline::metrics().get_gauge("vigil_merchant_pending_batches{" + shard_label + "}",
                                              "Batches waiting for parts from user shards");
  st.mailbox = &pipeline::metrics().get_gauge(
    "vigil_mailbox_depth{actor=\"merchant\",index=\"" + std::to_string(index) + "\"}",
    "Messages waiting in an actor's mailbox (sampled when it handles one)");
  register_key_gauges("merchant", index, st.keys, st.forgotten);
  return {
    [=](merchant_part_atom, std::uint64_t batch_id, batch_ptr part) {
      auto& s = self->state;
      s.mailbox->set(static_cast<double>(self->mailbox().size()));
      for (auto& [id, items] : s.assembler->add(batch_id, std::move(*part))) {
        auto batch = std::make_shared<work_batch>(std::move(items));
        s.shard->process(*batch, true);
        // Spread batches over scorers; each (batch, shard) part goes to one scorer.
        auto scorer = s.scorers[(id * 31 + static_cast<std::uint64_t>(s.index)) % s.scorers.size()];
        self->send(scorer, score_atom::value, id, batch);
      }
      s.late->set(static_cast<double>(s.shard->late_records()));
      s.pending->set(static_cast<double>(s.assembler->pending()));
    },
    [=](merchant_label_atom, const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud) {
      self->state.shard->apply_label(merchant_id, event_time_ms, is_fraud);
    },
    [=](predict_atom, batch_ptr batch, bool update) {
      self->state.shard->process(*batch, update);
      return batch;
    },
    [=](snapshot_atom, bool all) {
      auto& s = self->state;
      auto copy = std::make_shared<pipeline::store_snapshot>(s.shard->copy_state(all));
      s.keys->set(static_cast<double>(s.shard->merchants().size()));
      s.forgotten->set(static_cast<double>(s.shard->forgotten()));
      return snapshot_ptr{std::move(copy)};
    },
    [=](config_atom, config_ptr c) { self->state.shard->set_allowed_lateness(c->allowed_lateness_ms); },
    [=](tick_atom) {},  // it never waits on anything to retry
  };
}

} // namespace

user_shard_actor spawn_user_feature_actor(caf::actor_system& sys, int shard_index,
                                    std::vector<merchant_shard_actor> merchant_shards,
                                    std::int64_t allowed_lateness_ms, const pipeline::state_bounds& bounds,
                                    snapshot_ptr restored) {
  return sys.spawn(user_feature_actor, shard_index, std::move(merchant_shards),
                   allowed_lateness_ms, bounds, std::move(restored));
}

merchant_shard_actor spawn_merchant_feature_actor(caf::actor_system& sys, int shard_index,
                                        int user_shard_count, std::vector<scorer_actor> scorers,
                                        std::int64_t allowed_lateness_ms, const pipeline::state_bounds& bounds,
                                        std::shared_ptr<merchant_map> restored) {
  return sys.spawn(merchant_feature_actor, shard_index, user_shard_count, std::move(scorers),
                   allowed_lateness_ms, bounds, std::move(restored));
}

} // namespace vigil::actors
