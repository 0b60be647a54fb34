#include "actors/pipeline/source_actor.h"

#include "actors/pipeline/shard_logic.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <iostream>
#include <map>
#include <set>

namespace vigil::actors {
namespace {

constexpr auto tick_interval = std::chrono::milliseconds(1);
constexpr auto shard_reply_timeout = std::chrono::seconds(60);
constexpr std::int64_t pause_after_ns = 20'000'000;  ///< credit exhausted this long -> pause input

struct source_state {
  std::shared_ptr<record_source> source;
  std::shared_ptr<snapshot_store> snapshots;
  source_settings settings;
  work_batch current;
  std::int64_t current_started_ns = 0;
  std::uint64_t next_batch_id = 0;
  std::set<std::uint64_t> in_flight;  ///< dispatched, not yet delivered
  bool paused = false;
  std::int64_t no_credit_since_ns = 0;  ///< 0 while credit is available
  std::int64_t paused_since_ns = 0;
  // A request waits for the next checkpoint whose copy starts after it.
  bool checkpoint_requested = false;
  bool copying = false;             ///< barrier: shards' state being copied
  bool checkpoint_running = false;  ///< copying or saving
  std::int64_t last_checkpoint_ns = 0;
  std::vector<caf::typed_response_promise<bool>> checkpoint_waiters;  ///< for the next checkpoint
  std::vector<caf::typed_response_promise<bool>> running_waiters;     ///< for the running one
  std::vector<caf::typed_response_promise<bool>> drained_waiters;
  bool drained_checkpoint_done = false;
  bool revoking = false;            ///< partitions wait for a checkpoint, then go
  bool running_covers_revocation = false;
  bool stopping = false;            ///< after the next checkpoint, read nothing more
  /// Checkpoints write what changed since the previous one; after a failed
  /// one, the next writes everything.
  bool next_checkpoint_full = false;
  std::int64_t next_restore_attempt_ns = 0;

  pipeline::counter* records_in = nullptr;
  pipeline::counter* ticks = nullptr;
  pipeline::gauge* in_flight_gauge = nullptr;
  pipeline::gauge* paused_gauge = nullptr;
  pipeline::counter* paused_ms = nullptr;
  pipeline::counter* checkpoints = nullptr;
  pipeline::counter* checkpoint_failures = nullptr;
  partition_positions saving_positions;  ///< positions of the checkpoint being saved
  pipeline::counter* partitions_restored = nullptr;
  pipeline::counter* partitions_released = nullptr;
  pipeline::counter* restore_failures = nullptr;
  pipeline::gauge* owned_partitions = nullptr;
  pipeline::gauge* last_checkpoint_time = nullptr;
  pipeline::counter* checkpoint_entries = nullptr;
  pipeline::gauge* drained_gauge = nullptr;
  pipeline::histogram* checkpoint_seconds = nullptr;

  bool has_credit() const {
    return in_flight.size() < static_cast<std::size_t>(settings.config->max_in_flight_batches);
  }
  bool drained() const { return source->exhausted() && in_flight.empty() && current.empty(); }
};

using source_actor_ptr = source_actor::stateful_pointer<source_state>;

void set_paused(source_actor_ptr self, bool paused) {
  auto& s = self->state;
  if (s.paused == paused)
    return;
  auto now = steady_now_ns();
  if (paused) {
    s.source->pause();
    s.paused_since_ns = now;
  } else {
    s.source->resume();
    s.paused_ms->add(static_cast<std::uint64_t>((now - s.paused_since_ns) / 1'000'000));
  }
  s.paused = paused;
  s.paused_gauge->set(paused ? 1 : 0);
}

void dispatch(source_actor_ptr self) {
  auto& s = self->state;
  if (s.current.empty())
    return;
  auto id = s.next_batch_id++;
  s.in_flight.insert(id);
  auto n = static_cast<int>(s.settings.user_shards.size());
  std::vector<batch_ptr> parts(n);
  for (auto& p : parts)
    p = std::make_shared<work_batch>();
  for (auto& item : s.current)
    parts[shard_of(item.tx.user_id, n)]->push_back(std::move(item));
  s.records_in->add(s.current.size());
  s.current.clear();
  for (int i = 0; i < n; ++i)
    self->send(s.settings.user_shards[i], user_batch_atom::value, id, parts[i]);
  s.in_flight_gauge->set(static_cast<double>(s.in_flight.size()));
}

// Writes a checkpoint on its own thread: encoding and storing megabytes of
// state must not hold the pipeline, which resumes as soon as the consistent
// copy is taken. Replies (saved, error text; "" = stored).
void save_checkpoint(caf::blocking_actor* worker, source_actor source,
                     std::shared_ptr<snapshot_store> store, snapshot_ptr snapshot) {
  std::string error;
  try {
    store->save(*snapshot);
  } catch (const std::exception& e) {
    error = e.what();
  }
  worker->send(source, saved_atom::value, error);
}

std::string partition_list(const std::vector<std::int32_t>& partitions) {
  std::string out;
  for (auto p : partitions)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

// Forgets the users of partitions this node no longer owns.
void drop_partitions(source_actor_ptr self, const std::vector<std::int32_t>& partitions) {
  auto& s = self->state;
  auto list = std::make_shared<const std::vector<std::int32_t>>(partitions);
  for (const auto& shard : s.settings.user_shards)
    self->send(shard, revoke_atom::value, partition_list_ptr{list});
  s.partitions_released->add(partitions.size());
}

void finish_revocation(source_actor_ptr self) {
  auto& s = self->state;
  auto revoked = s.source->pending_revocation();
  std::cerr << "vigil: released partitions " << partition_list(revoked)
            << (s.source->revocation_lost() ? " (assignment lost: no checkpoint)" : " after their checkpoint")
            << "\n";
  drop_partitions(self, revoked);
  s.source->complete_revocation();
  s.revoking = false;
  s.owned_partitions->set(static_cast<double>(s.source->owned_partitions()));
}

void finish_checkpoint(source_actor_ptr self, const std::string& error) {
  auto& st = self->state;
  if (error.empty()) {
    // Offsets are committed only once the state that reflects them is
    // stored, so a restart without this checkpoint never skips records.
    st.source->commit(st.saving_positions);
    st.checkpoints->add();
    st.last_checkpoint_time->set(std::chrono::duration<double>(
      std::chrono::system_clock::now().time_since_epoch()).count());
  } else {
    st.next_checkpoint_full = true;  // the changes of this one were not stored
    st.checkpoint_failures->add();
    std::cerr << "vigil: checkpoint not stored: " << error << "\n";
  }
  st.last_checkpoint_ns = steady_now_ns();
  st.checkpoint_running = false;
  // Revoked partitions go even when the save failed: their next owner
  // resumes from their previous checkpoint, whose state and position agree.
  if (st.running_covers_revocation)
    finish_revocation(self);
  st.running_covers_revocation = false;
  for (auto& p : st.running_waiters)
    p.deliver(error.empty());
  st.running_waiters.clear();
}

// Copies the state every shard changed since the last checkpoint at the
// barrier (the pipeline is drained), then lets the pipeline resume and saves
// the copy with the positions it reflects.
void run_checkpoint(source_actor_ptr self) {
  auto& s = self->state;
  s.checkpoint_requested = false;
  s.copying = true;
  s.checkpoint_running = true;
  s.running_covers_revocation = s.revoking;
  s.running_waiters = std::move(s.checkpoint_waiters);
  s.checkpoint_waiters.clear();
  auto started = steady_now_ns();
  bool all = s.next_checkpoint_full;
  s.next_checkpoint_full = false;
  auto merged = std::make_shared<pipeline::store_snapshot>();
  merged->positions = s.source->positions();
  auto remaining = std::make_shared<std::size_t>(s.settings.user_shards.size() + s.settings.merchant_shards.size());
  auto failed = std::make_shared<bool>(false);
  auto copy_from = [&](const auto& shard) {
    self->request(shard, shard_reply_timeout, snapshot_atom::value, all)
      .then(
        [=](snapshot_ptr part) {
          merged->absorb(std::move(*part));
          if (--*remaining != 0 || *failed)
            return;
          auto& st = self->state;
          st.copying = false;  // the copy is taken: resume
          st.checkpoint_seconds->observe((steady_now_ns() - started) / 1e9);
          st.checkpoint_entries->add(merged->users.size() + merged->merchants.size());
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
          self->state.copying = false;
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
void restore_partitions(source_actor_ptr self, const std::vector<std::int32_t>& partitions) {
  auto& s = self->state;
  auto now = steady_now_ns();
  if (now < s.next_restore_attempt_ns)
    return;
  pipeline::store_snapshot restored;
  if (s.snapshots) {
    try {
      restored = s.snapshots->claim_partitions(partitions);
    } catch (const std::exception& e) {
      // Reading them without their state would double-count or lose history:
      // keep them waiting and retry.
      s.restore_failures->add();
      s.next_restore_attempt_ns = now + 1'000'000'000LL;
      std::cerr << "vigil: cannot restore partitions (retrying in 1 s): " << e.what() << "\n";
      return;
    }
  }
  auto n = static_cast<int>(s.settings.user_shards.size());
  std::vector<snapshot_ptr> parts(n);
  for (auto& p : parts)
    p = std::make_shared<pipeline::store_snapshot>();
  for (auto& [id, state] : restored.users) {
    auto& part = *parts[shard_of(id, n)];
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
    s.restore_failures->add();
    std::cerr << "vigil: cannot start reading partitions " << partition_list(partitions) << ": "
              << e.what() << "\n";
    return;
  }
  std::cerr << "vigil: reading partitions " << partition_list(partitions) << " from "
            << restored.positions.size() << " checkpoints (" << restored_users
            << " users restored)\n";
  s.partitions_restored->add(partitions.size());
  s.owned_partitions->set(static_cast<double>(s.source->owned_partitions()));
}

// A consumer group moved partitions: revoked ones are checkpointed and then
// released; assigned ones start once their state is installed.
void follow_ownership(source_actor_ptr self) {
  auto& s = self->state;
  if (!s.revoking) {
    auto revoked = s.source->pending_revocation();
    if (!revoked.empty() && (s.source->revocation_lost() || !s.snapshots)) {
      finish_revocation(self);
    } else if (!revoked.empty()) {
      s.revoking = true;
      s.checkpoint_requested = true;
    }
  }
  if (s.revoking)
    return;
  auto assigned = s.source->pending_assignment();
  if (!assigned.empty())
    restore_partitions(self, assigned);
}

void on_tick(source_actor_ptr self) {
  auto& s = self->state;
  s.ticks->add();
  auto now = steady_now_ns();
  const auto& cfg = *s.settings.config;
  follow_ownership(self);
  if (s.snapshots && !s.checkpoint_requested && !s.checkpoint_running &&
      now - s.last_checkpoint_ns > cfg.snapshot_interval_ms * 1'000'000LL)
    s.checkpoint_requested = true;
  if (s.copying)
    return;
  if (s.checkpoint_requested) {
    // Barrier: flush what we hold, issue nothing new until drained and copied.
    if (!s.current.empty() && s.has_credit())
      dispatch(self);
    if (s.current.empty() && s.in_flight.empty() && !s.checkpoint_running)
      run_checkpoint(self);
    return;
  }
  if (s.stopping)
    return;
  if (!s.has_credit()) {
    // Pausing makes librdkafka drop its prefetched records, so ride out a
    // short stall (a few ms of acknowledgements) before pausing.
    if (s.no_credit_since_ns == 0)
      s.no_credit_since_ns = now;
    if (now - s.no_credit_since_ns >= pause_after_ns)
      set_paused(self, true);
    s.source->poll(s.current, 0);  // keeps group membership and callbacks alive
    return;
  }
  s.no_credit_since_ns = 0;
  set_paused(self, false);
  // batch_size may have shrunk below what we hold (live config).
  auto target = static_cast<std::size_t>(cfg.batch_size);
  auto room = target > s.current.size() ? target - s.current.size() : 0;
  if (s.current.empty())
    s.current_started_ns = now;
  s.source->poll(s.current, room);
  bool full = s.current.size() >= target;
  bool late = !s.current.empty() && now - s.current_started_ns >= cfg.batch_deadline_ms * 1'000'000LL;
  if (full || late || (s.source->exhausted() && !s.current.empty()))
    dispatch(self);
  if (s.drained() && !s.checkpoint_running) {
    if (!s.drained_checkpoint_done && s.snapshots) {
      s.drained_checkpoint_done = true;
      s.checkpoint_requested = true;
      return;
    }
    s.drained_gauge->set(1);
    for (auto& p : s.drained_waiters)
      p.deliver(true);
    s.drained_waiters.clear();
  }
}

source_actor::behavior_type run_source(source_actor_ptr self, std::shared_ptr<record_source> source,
                           std::shared_ptr<snapshot_store> snapshots, source_settings settings) {
  auto& st = self->state;
  st.source = std::move(source);
  st.snapshots = std::move(snapshots);
  st.settings = std::move(settings);
  st.last_checkpoint_ns = steady_now_ns();
  auto& m = pipeline::metrics();
  st.records_in = &m.get_counter("vigil_records_in_total", "Records read by the source");
  st.ticks = &m.get_counter("vigil_source_polls_total", "Source poll rounds (timer ticks)");
  st.in_flight_gauge = &m.get_gauge("vigil_in_flight_batches", "Batches between source and sink (credit in use)");
  st.paused_gauge = &m.get_gauge("vigil_source_paused", "1 while the source's input is paused for lack of credit");
  st.paused_ms = &m.get_counter("vigil_source_paused_milliseconds_total", "Time the input spent paused");
  st.drained_gauge = &m.get_gauge("vigil_source_drained", "1 once a finite source is fully delivered and checkpointed");
  st.checkpoints = &m.get_counter("vigil_checkpoints_total", "Checkpoints saved");
  st.checkpoint_failures = &m.get_counter("vigil_checkpoint_failures_total", "Checkpoints that could not be taken or stored");
  st.partitions_restored = &m.get_counter("vigil_partitions_restored_total", "Partitions assigned and restored from their checkpoint");
  st.partitions_released = &m.get_counter("vigil_partitions_released_total", "Partitions revoked and released after their checkpoint");
  st.restore_failures = &m.get_counter("vigil_partition_restore_failures_total", "Attempts to restore assigned partitions that failed (retried)");
  st.owned_partitions = &m.get_gauge("vigil_partitions_owned", "Input partitions this node reads");
  // A source without a consumer group reads its partitions from the start.
  st.owned_partitions->set(static_cast<double>(st.source->owned_partitions()));
  st.checkpoint_entries = &m.get_counter("vigil_checkpoint_entries_total",
                                         "Users and merchants written by checkpoints (changed ones only)");
  st.last_checkpoint_time = &m.get_gauge("vigil_last_checkpoint_timestamp_seconds",
                                         "Unix time of the last stored checkpoint (alert when it grows old)");
  st.checkpoint_seconds = &m.get_histogram("vigil_checkpoint_seconds", "Pipeline pause to copy state at a checkpoint (drain excluded)");
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      on_tick(self);
      self->delayed_send(self, tick_interval, tick_atom::value);
    },
    [=](batch_done_atom, std::uint64_t batch_id) {
      auto& s = self->state;
      s.in_flight.erase(batch_id);
      s.in_flight_gauge->set(static_cast<double>(s.in_flight.size()));
    },
    [=](config_atom, config_ptr next) { self->state.settings.config = std::move(next); },
    [=](saved_atom, const std::string& error) { finish_checkpoint(self, error); },
    [=](snapshot_atom) {
      auto p = self->make_response_promise<bool>();
      self->state.checkpoint_waiters.push_back(p);
      self->state.checkpoint_requested = true;
      return p;
    },
    [=](quiesce_atom) {
      // The final checkpoint: nothing read after it, so nothing is
      // published that it does not cover.
      auto p = self->make_response_promise<bool>();
      self->state.checkpoint_waiters.push_back(p);
      self->state.checkpoint_requested = true;
      self->state.stopping = true;
      return p;
    },
    [=](drained_atom) {
      auto p = self->make_response_promise<bool>();
      self->state.drained_waiters.push_back(p);
      return p;
    },
  };
}

} // namespace

source_actor spawn_source_actor(caf::actor_system& sys, std::shared_ptr<record_source> source,
                              std::shared_ptr<snapshot_store> snapshots,
                              source_settings settings) {
  // Detached: polling Kafka and saving checkpoints block briefly.
  return sys.spawn<caf::detached>(run_source, std::move(source), std::move(snapshots),
                                  std::move(settings));
}

} // namespace vigil::actors
