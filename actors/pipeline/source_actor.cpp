#include "actors/pipeline/source_actor.h"

#include "pipeline/stream/keyed_shards.h"
#include "config/runtime_config.h"
#include "pipeline/features/spare_user_nodes.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/stream/checkpoint_barrier.h"
#include "pipeline/stream/credit_window.h"
#include "pipeline/stream/partition_handover.h"
#include "pipeline/stream/record_batcher.h"
#include "pipeline/stream/source_metrics.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <iostream>
#include <malloc.h>
#include <map>

namespace vigil::actors {
namespace {

constexpr auto tick_interval = std::chrono::milliseconds(1);
constexpr auto shard_reply_timeout = std::chrono::seconds(60);

using pipeline::checkpoint_barrier;
using pipeline::partition_handover;

// The actor moves records and messages; what to do when is decided by the
// plain parts (batcher, credit window, checkpoint barrier, hand-over).
struct source_state {
  std::shared_ptr<connectors::record_source> source;
  std::shared_ptr<connectors::snapshot_store> snapshots;
  source_settings settings;
  pipeline::record_batcher batch;
  std::unique_ptr<pipeline::credit_window> credit;
  checkpoint_barrier barrier;
  std::unique_ptr<partition_handover> handover;
  std::unique_ptr<pipeline::source_metrics> m;
  /// Requests by the checkpoint number that answers them.
  std::map<std::uint64_t, std::vector<caf::typed_response_promise<bool>>> checkpoint_waiters;
  std::vector<caf::typed_response_promise<bool>> drained_waiters;
  bool drained_checkpoint_done = false;
  bool stopping = false;  ///< after the next checkpoint, read nothing more
  std::int64_t paused_since_ns = 0;
  partition_positions saving_positions;  ///< positions of the checkpoint being saved

  bool drained() const { return source->exhausted() && credit->in_flight() == 0 && batch.empty(); }
};

using source_ptr = source_actor::stateful_pointer<source_state>;

std::string partition_list(const std::vector<std::int32_t>& partitions) {
  std::string out;
  for (auto p : partitions)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

void apply_input_change(source_ptr self, pipeline::credit_window::input_change change, std::int64_t now) {
  auto& s = self->state;
  using change_kind = pipeline::credit_window::input_change;
  if (change == change_kind::pause) {
    s.source->pause();
    s.paused_since_ns = now;
  } else if (change == change_kind::resume) {
    s.source->resume();
    s.m->paused_ms.add(static_cast<std::uint64_t>((now - s.paused_since_ns) / 1'000'000));
  }
  s.m->paused.set(s.credit->paused() ? 1 : 0);
}

// Hands the held batch to the user shards, split by user.
void dispatch(source_ptr self) {
  auto& s = self->state;
  auto items = s.batch.take();
  if (items.empty())
    return;
  auto id = s.credit->issue();
  auto n = static_cast<int>(s.settings.user_shards.size());
  auto parts = pipeline::split_by_shard(items, n, [](const auto& item) -> auto& { return item.tx.user_id; });
  s.m->records_in.add(items.size());
  for (int i = 0; i < n; ++i)
    self->send(s.settings.user_shards[i], user_batch_atom::value, id,
               std::make_shared<work_batch>(std::move(parts[i])));
  s.m->in_flight.set(static_cast<double>(s.credit->in_flight()));
}

/// A checkpoint of this many users and merchants (about 5 kB each) is
/// followed by handing freed memory back to the system.
constexpr std::size_t large_checkpoint_keys = 20'000;

// Writes a checkpoint on its own thread: encoding and storing megabytes of
// state must not hold the pipeline, which resumes as soon as the consistent
// copy is taken. Replies (saved, error text; "" = stored).
void save_checkpoint(caf::blocking_actor* worker, source_actor source, std::shared_ptr<connectors::snapshot_store> store,
                     snapshot_ptr snapshot) {
  std::string error;
  try {
    store->save(*snapshot);
  } catch (const std::exception& e) {
    error = e.what();
  }
  // A checkpoint of every user is hundreds of MB, allocated on several
  // threads and freed here; the freed pages are handed back. Before this
  // (and before the save moved its arguments instead of copying them) the
  // soak test saw 0.5 -> 10 GB resident in four minutes at 30k tx/s; since,
  // 1.0 GB between checkpoints for 30 minutes. Only after a large one: the
  // trim walks the whole heap, and every page it hands back faults in again
  // when the stream reuses it (after checkpoints of a few thousand keys,
  // 4% of the actor threads' samples in the streaming bench, `perf`).
  const auto keys = snapshot->users.size() + snapshot->merchants.size();
  pipeline::give_spare_user_nodes(std::move(snapshot->users));  // the next copies refill them
  snapshot.reset();
  if (keys >= large_checkpoint_keys)
    ::malloc_trim(0);
  worker->send(source, saved_atom::value, error);
}

// What the source reads now, for whoever answers /predict on this node.
void publish_ownership(source_ptr self) {
  auto& s = self->state;
  if (s.settings.ownership)
    s.settings.ownership->publish(std::make_shared<const partition_ownership>(
      partition_ownership{s.source->owned_partition_list(), s.source->topic_partitions()}));
}

// Lets revoked partitions go and forgets their users.
void finish_revocation(source_ptr self) {
  auto& s = self->state;
  auto revoked = s.source->pending_revocation();
  // Records of theirs still held (a lost assignment does not wait for a
  // barrier to flush them) must not reach state after the users are
  // dropped: their next owner, maybe this node again, reads them from the
  // checkpoint, and applying them here as well would count them twice.
  if (auto dropped = s.batch.drop_partitions(revoked))
    pipeline::metrics().get_counter("vigil_records_left_to_next_owner_total",
                                    "Records fetched from a partition being revoked, left for its next owner")
      .add(dropped);
  std::cerr << "vigil: released partitions " << partition_list(revoked)
            << (s.source->revocation_lost() ? " (assignment lost: no checkpoint)" : " after their checkpoint")
            << "\n";
  auto list = std::make_shared<const std::vector<std::int32_t>>(revoked);
  s.source->complete_revocation();
  publish_ownership(self);  // refused from now on, before their users go
  for (const auto& shard : s.settings.user_shards)
    self->send(shard, revoke_atom::value, partition_list_ptr{list});
  s.m->partitions_released.add(revoked.size());
  s.handover->released();
  s.m->owned_partitions.set(static_cast<double>(s.source->owned_partitions()));
}

void finish_checkpoint(source_ptr self, const std::string& error) {
  auto& s = self->state;
  auto number = s.barrier.finished(error.empty(), steady_now_ns());
  if (error.empty()) {
    // Offsets are committed only once the state that reflects them is
    // stored, so a restart without this checkpoint never skips records.
    s.source->commit(s.saving_positions);
    s.m->checkpoints.add();
    s.m->last_checkpoint_time.set(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  } else {
    s.m->checkpoint_failures.add();
    std::cerr << "vigil: checkpoint not stored: " << error << "\n";
  }
  if (s.handover->release_after(number))
    finish_revocation(self);
  for (auto it = s.checkpoint_waiters.begin(); it != s.checkpoint_waiters.end() && it->first <= number;) {
    for (auto& p : it->second)
      p.deliver(error.empty());
    it = s.checkpoint_waiters.erase(it);
  }
}

// Copies the state every shard changed since the last checkpoint at the
// barrier (the pipeline is drained), then lets the pipeline resume and saves
// the copy with the positions it reflects.
void run_checkpoint(source_ptr self) {
  auto& s = self->state;
  auto plan = s.barrier.copy_started();
  s.handover->checkpoint_started(plan.number);
  auto started = steady_now_ns();
  auto merged = std::make_shared<pipeline::store_snapshot>();
  merged->positions = s.source->positions();
  auto remaining = std::make_shared<std::size_t>(s.settings.user_shards.size() + s.settings.merchant_shards.size());
  auto failed = std::make_shared<bool>(false);
  auto copy_from = [&](const auto& shard) {
    self->request(shard, shard_reply_timeout, snapshot_atom::value, plan.full)
      .then(
        [=](snapshot_ptr part) {
          merged->absorb(std::move(*part));
          if (--*remaining != 0 || *failed)
            return;
          auto& st = self->state;
          st.barrier.copy_taken();  // the copy is taken: resume
          st.m->checkpoint_seconds.observe((steady_now_ns() - started) / 1e9);
          st.m->checkpoint_entries.add(merged->users.size() + merged->merchants.size());
          st.saving_positions = merged->positions;
          if (!st.snapshots)
            return finish_checkpoint(self, "");
          self->spawn<caf::detached>(save_checkpoint, caf::actor_cast<source_actor>(self), st.snapshots, merged);
        },
        [=](caf::error& err) {
          // A missing shard state would make a partial checkpoint: keep the
          // previous one.
          if (*failed)
            return;
          *failed = true;
          self->state.barrier.copy_taken();
          finish_checkpoint(self, caf::to_string(err));
        });
  };
  for (const auto& shard : s.settings.user_shards)
    copy_from(shard);
  for (const auto& shard : s.settings.merchant_shards)
    copy_from(shard);
}

// Installs the checkpointed state of newly assigned partitions in the user
// shards, then lets the source read them from the checkpointed positions.
// The shards get the state before any record of those partitions: messages
// from one sender arrive in order.
void restore_partitions(source_ptr self, const std::vector<std::int32_t>& partitions, std::int64_t now) {
  auto& s = self->state;
  pipeline::store_snapshot restored;
  if (s.snapshots) {
    try {
      restored = s.snapshots->claim_partitions(partitions);
    } catch (const std::exception& e) {
      // Reading them without their state would double-count or lose history:
      // keep them waiting and retry.
      s.m->restore_failures.add();
      s.handover->restore_failed(now);
      std::cerr << "vigil: cannot restore partitions (retrying in 1 s): " << e.what() << "\n";
      return;
    }
  }
  auto n = static_cast<int>(s.settings.user_shards.size());
  std::vector<snapshot_ptr> parts(n);
  for (auto& p : parts)
    p = std::make_shared<pipeline::store_snapshot>();
  for (auto& [id, state] : restored.users) {
    auto& part = *parts[pipeline::shard_of(id, n)];
    part.user_partitions[id] = restored.partition_of_user(id);
    part.users[id] = std::move(state);
  }
  for (int i = 0; i < n; ++i)
    self->send(s.settings.user_shards[i], install_atom::value, parts[i]);
  auto restored_users = restored.users.size();
  try {
    s.source->complete_assignment(restored.positions);
  } catch (const std::exception& e) {
    // The consumer refused the assignment: the group will rebalance again.
    s.m->restore_failures.add();
    std::cerr << "vigil: cannot start reading partitions " << partition_list(partitions) << ": "
              << e.what() << "\n";
    return;
  }
  std::cerr << "vigil: reading partitions " << partition_list(partitions) << " from "
            << restored.positions.size() << " checkpoints (" << restored_users << " users restored)\n";
  s.m->partitions_restored.add(partitions.size());
  s.m->owned_partitions.set(static_cast<double>(s.source->owned_partitions()));
  publish_ownership(self);  // their users are installed (sent before)
}

void follow_ownership(source_ptr self, std::int64_t now) {
  auto& s = self->state;
  auto step = s.handover->next(s.source->pending_revocation(), s.source->revocation_lost(),
                               s.source->pending_assignment(), now);
  switch (step.kind) {
    case partition_handover::action_kind::release_now: return finish_revocation(self);
    case partition_handover::action_kind::checkpoint_first: s.barrier.request(); return;
    case partition_handover::action_kind::restore: return restore_partitions(self, step.partitions, now);
    case partition_handover::action_kind::none: return;
  }
}

void on_tick(source_ptr self) {
  auto& s = self->state;
  s.m->ticks.add();
  auto now = steady_now_ns();
  const auto& cfg = *s.settings.config;
  follow_ownership(self, now);
  if (s.snapshots)
    s.barrier.on_interval(now, cfg.snapshot_interval_ms * 1'000'000LL);
  switch (s.barrier.next(!s.batch.empty(), s.credit->in_flight())) {
    case checkpoint_barrier::step::hold:
      return;
    case checkpoint_barrier::step::copy:
      return run_checkpoint(self);
    case checkpoint_barrier::step::flush:
      // Barrier: dispatch what we hold, issue nothing new until drained.
      if (s.credit->available())
        dispatch(self);
      return;
    case checkpoint_barrier::step::read:
      break;
  }
  if (s.stopping)
    return;
  s.credit->set_limit(static_cast<std::size_t>(cfg.max_in_flight_batches));
  s.credit->set_grace(cfg.pause_input_after_ms * 1'000'000LL);
  apply_input_change(self, s.credit->tick(now), now);
  if (!s.credit->available()) {
    s.source->poll(s.batch.fill(now), 0);  // keeps group membership and callbacks alive
    return;
  }
  auto target = static_cast<std::size_t>(cfg.batch_size);
  s.source->poll(s.batch.fill(now), s.batch.room(target));
  if (s.batch.due(target, cfg.batch_deadline_ms * 1'000'000LL, now, s.source->exhausted()))
    dispatch(self);
  if (s.drained() && !s.barrier.running()) {
    if (!s.drained_checkpoint_done && s.snapshots) {
      s.drained_checkpoint_done = true;
      s.barrier.request();
      return;
    }
    s.m->drained.set(1);
    for (auto& p : s.drained_waiters)
      p.deliver(true);
    s.drained_waiters.clear();
  }
}

source_actor::behavior_type run_source(source_ptr self, std::shared_ptr<connectors::record_source> source,
                                       std::shared_ptr<connectors::snapshot_store> snapshots, source_settings settings) {
  auto& st = self->state;
  st.source = std::move(source);
  st.snapshots = std::move(snapshots);
  st.settings = std::move(settings);
  st.credit = std::make_unique<pipeline::credit_window>(
    static_cast<std::size_t>(st.settings.config->max_in_flight_batches),
    st.settings.config->pause_input_after_ms * 1'000'000LL);
  st.handover = std::make_unique<partition_handover>(st.snapshots != nullptr);
  st.m = std::make_unique<pipeline::source_metrics>();
  st.barrier.start(steady_now_ns());
  // A source without a consumer group reads its partitions from the start.
  st.m->owned_partitions.set(static_cast<double>(st.source->owned_partitions()));
  publish_ownership(self);
  self->send(self, tick_atom::value);
  auto wait_for_checkpoint = [self] {
    auto p = self->make_response_promise<bool>();
    self->state.checkpoint_waiters[self->state.barrier.request()].push_back(p);
    return p;
  };
  return {
    [=](tick_atom) {
      on_tick(self);
      self->delayed_send(self, tick_interval, tick_atom::value);
    },
    [=](batch_done_atom, std::uint64_t batch_id) {
      auto& s = self->state;
      s.credit->release(batch_id);
      s.m->in_flight.set(static_cast<double>(s.credit->in_flight()));
    },
    [=](config_atom, config_ptr next) { self->state.settings.config = std::move(next); },
    [=](partitions_atom) {
      auto& source = *self->state.source;
      return partition_ownership_ptr{
        std::make_shared<const partition_ownership>(partition_ownership{source.owned_partition_list(),
                                                                        source.topic_partitions()})};
    },
    [=](saved_atom, const std::string& error) { finish_checkpoint(self, error); },
    [=](snapshot_atom) { return wait_for_checkpoint(); },
    [=](quiesce_atom) {
      // The final checkpoint: nothing read after it, so nothing is
      // published that it does not cover.
      self->state.stopping = true;
      return wait_for_checkpoint();
    },
    [=](drained_atom) {
      auto p = self->make_response_promise<bool>();
      self->state.drained_waiters.push_back(p);
      return p;
    },
  };
}

} // namespace

source_actor spawn_source_actor(caf::actor_system& sys, std::shared_ptr<connectors::record_source> source,
                                std::shared_ptr<connectors::snapshot_store> snapshots, source_settings settings) {
  // Detached: polling Kafka and saving checkpoints block briefly.
  return sys.spawn<caf::detached>(run_source, std::move(source), std::move(snapshots), std::move(settings));
}

} // namespace vigil::actors
