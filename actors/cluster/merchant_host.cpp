#include "actors/cluster/merchant_host.h"

#include "actors/pipeline/ticker.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "pipeline/cluster/merchant_placement.h"
#include "pipeline/connectors/merchant_shard_store.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <algorithm>
#include <deque>
#include <iostream>

namespace vigil::actors {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Leases are renewed, shards given up and new ones claimed once a round.
constexpr auto round_interval = 1s;
/// A holder that stops renewing (dead, frozen) loses its shards after this.
constexpr auto lease_ttl = 5s;
/// Checkpoint a shard once its log has this many entries, or its oldest
/// entry is this old. A checkpoint writes every merchant the shard changed
/// since the last one: at 256 entries and 5 s a replay at 22k tx/s
/// checkpointed all 64 shards every 4-5 s, 3-12 ms each, which was most of
/// what this actor did.
constexpr std::size_t checkpoint_log_entries = 1024;
constexpr auto checkpoint_age = 15s;
/// Checkpoints for size or age run in slices: one every tick, started
/// only within this much of the tick's start (the longest logs first; the
/// rest wait for later ticks). Requests wait while a slice runs: with one
/// slice of 300 ms a second, the stream stalled 100-315 ms every few
/// seconds (under even load all shards come due together); with a slow
/// Redis (200 ms a call, two calls a checkpoint), checkpoints done all in
/// one tick held every merchant request for 25 s and let the leases (5 s)
/// lapse. A log only grows meanwhile: nothing waits on it.
constexpr auto tick_interval = 100ms;
constexpr auto checkpoint_time_per_tick = 25ms;
/// Log entries a shard keeps in memory while Redis is unreachable.
constexpr std::size_t max_unlogged = 4096;

struct held_shard {
  std::unique_ptr<cluster::hosted_merchant_shard> shard;
  std::int64_t epoch = 0;            ///< of the lease this holder took
  bool full_checkpoint_due = false;  ///< Redis lost the shard: store every merchant
  std::size_t log_entries = 0;  ///< in Redis since the last checkpoint
  clock_type::time_point first_logged{};
  std::deque<std::string> unlogged;  ///< answered, not yet in Redis (oldest first)
};

struct host_metrics {
  pipeline::gauge& held = pipeline::metrics().get_gauge(
    "vigil_merchant_shards_held", "Global merchant shards this node holds (of " +
                                    std::to_string(cluster::merchant_shard_count) + " in the cluster)");
  pipeline::gauge& unlogged = pipeline::metrics().get_gauge(
    "vigil_merchant_unlogged_entries", "Merchant changes answered but not yet in Redis (Redis unreachable)");
  pipeline::counter& claimed = pipeline::metrics().get_counter(
    "vigil_merchant_shard_claims_total", "Global merchant shards this node claimed and loaded");
  pipeline::counter& released = pipeline::metrics().get_counter(
    "vigil_merchant_shard_releases_total", "Global merchant shards this node checkpointed and gave up");
  pipeline::counter& lost = pipeline::metrics().get_counter(
    "vigil_merchant_shard_leases_lost_total", "Global merchant shards dropped because another node holds them now");
  pipeline::counter& refused = pipeline::metrics().get_counter(
    "vigil_merchant_requests_refused_total",
    "Merchant requests refused: the shard is not held here, or its changes cannot reach Redis");
  pipeline::counter& replays_skipped = pipeline::metrics().get_counter(
    "vigil_merchant_replays_skipped_total",
    "Records at or below their partition's high-water mark: read, not applied again");
  pipeline::counter& store_failures = pipeline::metrics().get_counter(
    "vigil_merchant_store_failures_total", "Redis calls for merchant shards that failed");
};

host_metrics& metrics() {
  static host_metrics m;
  return m;
}

struct host_state {
  std::unique_ptr<connectors::merchant_shard_store> store;
  merchant_host_wiring wiring;
  std::int64_t lateness_ms = 0;
  pipeline::state_bounds bounds;
  std::map<int, held_shard> held;
  /// After a failed Redis call, none until this time (then 1, 2, 4, 8 s).
  clock_type::time_point redis_retry_at{};
  std::chrono::seconds redis_backoff{0};
  /// When the last tick's work ended. Ticks come every 100 ms whatever a
  /// tick takes: with a slow Redis a tick can take longer, and ticks that
  /// queued meanwhile would crowd out every request (seen: a 200 ms Redis
  /// and a loaded machine held /predict and the stream for minutes).
  clock_type::time_point last_tick_done{};
  clock_type::time_point last_round{};  ///< when the last round (leases, claims) ran
};

using host_ptr = merchant_host_actor::stateful_pointer<host_state>;

bool redis_resting(const host_state& s) { return clock_type::now() < s.redis_retry_at; }

void redis_failed(host_state& s, const std::exception& e) {
  metrics().store_failures.add(1);
  if (s.redis_backoff.count() == 0)
    std::cerr << "vigil: Redis unreachable for merchant shards (changes wait in memory): " << e.what() << "\n";
  s.redis_backoff = std::min<std::chrono::seconds>(s.redis_backoff.count() == 0 ? 1s : 2 * s.redis_backoff, 8s);
  s.redis_retry_at = clock_type::now() + s.redis_backoff;
}

void redis_ok(host_state& s) {
  if (s.redis_backoff.count() != 0)
    std::cerr << "vigil: Redis reachable again for merchant shards\n";
  s.redis_backoff = 0s;
}

void publish_gauges(const host_state& s) {
  std::size_t unlogged = 0;
  auto held = std::make_shared<std::vector<std::int32_t>>();
  for (const auto& [shard, h] : s.held) {
    unlogged += h.unlogged.size();
    held->push_back(shard);
  }
  s.wiring.held->publish(std::move(held));
  metrics().held.set(static_cast<double>(s.held.size()));
  metrics().unlogged.set(static_cast<double>(unlogged));
}

void drop(host_ptr self, int shard, const std::string& why) {
  self->state.held.erase(shard);
  metrics().lost.add(1);
  publish_gauges(self->state);
  std::cerr << "vigil: merchant shard " << shard << " dropped: " << why << "\n";
}

// Claims `shard` and loads it: checkpoint, then its log replayed.
void take(host_ptr self, int shard) {
  auto& s = self->state;
  auto lease = s.store->claim(shard);
  if (!lease)
    return;  // still held by another node: its lease expires or it lets go
  auto stored = s.store->load(shard);
  held_shard h;
  h.epoch = lease->epoch;
  h.shard = std::make_unique<cluster::hosted_merchant_shard>(s.lateness_ms, s.bounds);
  h.shard->install(std::move(stored.merchants), std::move(stored.marks));
  if (!h.shard->install_answers(stored.answers))
    throw std::runtime_error("corrupt answers in merchant shard " + std::to_string(shard));
  for (const auto& entry : stored.log) {
    auto updates = cluster::decode_merchant_updates(entry);
    if (!updates)
      throw std::runtime_error("a corrupt log entry in merchant shard " + std::to_string(shard));
    h.shard->replay(*updates);
  }
  // What the log replayed counts as changed: the next checkpoint stores it
  // and empties the log.
  h.log_entries = stored.log.size();
  h.first_logged = clock_type::now();
  s.held[shard] = std::move(h);
  metrics().claimed.add(1);
}

// After the lease was found lapsed (Redis unreachable past its TTL): takes
// it back, keeping the state in memory, unless another node held the shard
// meanwhile (the epoch moved more than this claim's one step); then the
// memory is stale. When Redis lost the shard's data, memory is all there
// is: kept, and stored whole at the next checkpoint.
bool take_back(host_ptr self, int shard, held_shard& h) {
  auto lease = self->state.store->claim(shard);
  if (!lease)
    return false;
  if (lease->store_lost) {
    std::cerr << "vigil: merchant shard " << shard << " was lost from Redis: storing it again from memory\n";
    h.full_checkpoint_due = true;
  } else if (lease->epoch != h.epoch && lease->epoch != h.epoch + 1) {
    return false;
  }
  h.epoch = lease->epoch;
  return true;
}

/// What writing a shard's changes to Redis came to.
enum class written { all, lease_gone };

// Writes the shard's waiting changes to its log, oldest first. Throws when
// Redis fails (what is left waits).
written flush(host_ptr self, int shard, held_shard& h) {
  bool taken_back = false;
  while (!h.unlogged.empty()) {
    if (!self->state.store->append(shard, h.unlogged.front())) {
      if (taken_back || !take_back(self, shard, h))
        return written::lease_gone;
      taken_back = true;
      continue;
    }
    h.unlogged.pop_front();
    if (h.log_entries++ == 0)
      h.first_logged = clock_type::now();
  }
  return written::all;
}

// Stores the whole state (waiting changes included) and empties the log.
// Answers for records a partition checkpoint covers are dropped first: no
// source re-sends those. A lease that lapsed while Redis was unreachable is
// taken back first (lease_gone when another node holds the shard now or
// did meanwhile). Throws when Redis fails.
written checkpoint(host_ptr self, int shard, held_shard& h) {
  auto& store = *self->state.store;
  std::vector<std::int32_t> partitions;
  for (const auto& [partition, mark] : h.shard->marks())
    partitions.push_back(partition);
  h.shard->forget_answers_before(store.checkpointed_positions(partitions));
  // The copy forgets what changed: when it is not stored, only a copy of
  // everything stores those changes (the log still holds them until a
  // checkpoint stores, but the next one empties it).
  auto changed = h.shard->copy_state(h.full_checkpoint_due);
  h.full_checkpoint_due = true;
  if (!store.checkpoint(shard, changed, h.shard->marks(), h.shard->encode_answers())) {
    // Not Redis failing: the lease lapsed. Counted as a failure, the next
    // attempt found it lapsed again, and the host backed off for good.
    if (!take_back(self, shard, h) ||
        !store.checkpoint(shard, h.shard->copy_state(true), h.shard->marks(), h.shard->encode_answers()))
      return written::lease_gone;
  }
  h.full_checkpoint_due = false;
  h.log_entries = 0;
  h.unlogged.clear();
  return written::all;
}

// One shard's part of a round: give up, or (its lease renewed, or taken
// back when it lapsed) flush. Throws when Redis fails.
void maintain(host_ptr self, int shard, held_shard& h, bool mine, bool renewed) {
  auto& s = self->state;
  if (!mine) {
    if (checkpoint(self, shard, h) == written::lease_gone)
      return drop(self, shard, "another node holds it now");
    s.store->release(shard);
    s.held.erase(shard);
    metrics().released.add(1);
    return;
  }
  // A lease that lapsed while Redis was unreachable is taken back, with the
  // state in memory, unless another node holds it now or did meanwhile.
  if (!renewed && !take_back(self, shard, h))
    return drop(self, shard, "another node holds it now, or did while this node could not reach Redis");
  auto outcome = h.full_checkpoint_due ? checkpoint(self, shard, h) : flush(self, shard, h);
  if (outcome == written::lease_gone)
    return drop(self, shard, "another node holds it now");
}

// One slice of checkpoints: shards whose log is long or old enough, the
// longest logs first, each started before `deadline`. Throws when Redis
// fails.
void checkpoint_slice(host_ptr self, clock_type::time_point deadline) {
  auto& s = self->state;
  std::vector<std::pair<std::size_t, int>> due;  // (log entries, shard)
  const auto now = clock_type::now();
  for (const auto& [shard, h] : s.held)
    if (h.log_entries >= checkpoint_log_entries || (h.log_entries > 0 && now - h.first_logged >= checkpoint_age))
      due.emplace_back(h.log_entries, shard);
  std::sort(due.begin(), due.end(), std::greater<>());
  for (const auto& [entries, shard] : due) {
    if (clock_type::now() >= deadline)
      return;
    if (checkpoint(self, shard, s.held.at(shard)) == written::lease_gone)
      drop(self, shard, "another node holds it now");
  }
}

// One round: renew the leases, give up or flush each shard, claim new
// shards.
void host_round(host_ptr self) {
  auto& s = self->state;
  auto routes = s.wiring.routes->current();
  if (!routes)
    return;  // membership has not run its first round
  const auto& holders = routes->merchant_holders;
  if (holders.size() != static_cast<std::size_t>(cluster::merchant_shard_count))
    return;
  try {
    std::vector<int> held;
    for (const auto& [shard, h] : s.held)
      held.push_back(shard);
    auto renewed = s.store->renew(held);
    for (std::size_t i = 0; i < held.size(); ++i)
      maintain(self, held[i], s.held.at(held[i]), holders[held[i]] == s.wiring.node_name, renewed[i]);
    for (int shard = 0; shard < cluster::merchant_shard_count; ++shard)
      if (!s.held.count(shard) && holders[shard] == s.wiring.node_name)
        take(self, shard);
    redis_ok(s);
  } catch (const std::exception& e) {
    redis_failed(s, e);  // the rest of the round waits for Redis
  }
  publish_gauges(s);
}

void on_tick(host_ptr self) {
  auto& s = self->state;
  const auto start = clock_type::now();
  if (start - s.last_tick_done < tick_interval / 2 || redis_resting(s))
    return;  // queued behind a long tick (the work was just done), or Redis rests
  // A rest lasts at least a round's interval, so the first tick after one
  // is a round: leases that lapsed meanwhile are taken back before any
  // checkpoint.
  if (start - s.last_round >= round_interval) {
    s.last_round = start;
    host_round(self);
  } else {
    try {
      checkpoint_slice(self, start + checkpoint_time_per_tick);
      redis_ok(s);
    } catch (const std::exception& e) {
      redis_failed(s, e);
    }
  }
  s.last_tick_done = clock_type::now();
}

// Applies one shard's part of a request in memory: its features, or why
// the shard is refused. Its changes wait in `unlogged` for the request's
// one Redis call.
std::string apply_in_memory(host_ptr self, std::int32_t shard, const std::string& encoded,
                            std::vector<float>& features, bool& changed) {
  auto& s = self->state;
  auto it = s.held.find(shard);
  if (it == s.held.end() || it->second.unlogged.size() >= max_unlogged) {
    metrics().refused.add(1);
    return "merchant shard " + std::to_string(shard) +
           (it == s.held.end() ? " is not held by " + s.wiring.node_name
                               : " has too many changes waiting for Redis");
  }
  auto updates = cluster::decode_merchant_updates(encoded);
  if (!updates) {
    metrics().refused.add(1);
    return "malformed merchant updates for shard " + std::to_string(shard);
  }
  auto& h = it->second;
  const auto skipped_before = h.shard->replays_skipped();
  auto outcome = h.shard->apply(std::move(*updates));
  metrics().replays_skipped.add(h.shard->replays_skipped() - skipped_before);
  if (!outcome.changed.empty()) {
    h.unlogged.push_back(cluster::encode_merchant_updates(outcome.changed));
    changed = true;
  }
  features = std::move(outcome.features);
  return {};
}

/// Entries a shard sends in one multi-shard append (more wait for the next
/// call of the same flush).
constexpr std::size_t entries_per_append = 32;

// Writes the waiting changes of `shards` to their logs, in as few Redis
// calls as it takes (one, unless Redis was away), and records each shard's
// outcome in `result`. A shard whose lease is gone gets flush()'s own
// treatment (taken back, or lease_gone). Throws when Redis fails; what it
// found before stays in `result`.
void flush_many(host_ptr self, const std::vector<int>& shards, std::map<int, written>& result) {
  auto& s = self->state;
  std::vector<int> pending = shards;
  while (!pending.empty()) {
    std::vector<std::pair<int, std::vector<std::string>>> entries;
    for (int shard : pending) {
      auto& h = s.held.at(shard);
      auto n = std::min(h.unlogged.size(), entries_per_append);
      entries.emplace_back(shard, std::vector<std::string>(h.unlogged.begin(), h.unlogged.begin() + n));
    }
    auto appended = s.store->append_many(entries);
    std::vector<int> again;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      auto shard = entries[i].first;
      auto& h = s.held.at(shard);
      if (!appended[i]) {
        result[shard] = flush(self, shard, h);  // takes the lease back if it only lapsed
        continue;
      }
      for (std::size_t k = 0; k < entries[i].second.size(); ++k) {
        h.unlogged.pop_front();
        if (h.log_entries++ == 0)
          h.first_logged = clock_type::now();
      }
      if (h.unlogged.empty())
        result[shard] = written::all;
      else
        again.push_back(shard);
    }
    pending = std::move(again);
  }
}

// One request covering several shards (all of one sender's shards this
// holder holds, see merchant_client): applied shard by shard, their
// changes logged in one Redis call before the answer leaves.
caf::result<merchant_answers> apply(host_ptr self, const std::vector<std::int32_t>& shards,
                                    const std::vector<std::string>& encoded) {
  auto& s = self->state;
  if (shards.size() != encoded.size() || shards.size() > static_cast<std::size_t>(cluster::merchant_shard_count))
    return caf::make_error(caf::sec::invalid_argument, "a merchant request needs one update list per shard, "
                                                       "for at most " +
                                                         std::to_string(cluster::merchant_shard_count) + " shards");
  merchant_answers answers;
  answers.features.resize(shards.size());
  answers.refusals.resize(shards.size());
  std::vector<int> changed;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    bool shard_changed = false;
    answers.refusals[i] = apply_in_memory(self, shards[i], encoded[i], answers.features[i], shard_changed);
    if (shard_changed && std::find(changed.begin(), changed.end(), shards[i]) == changed.end())
      changed.push_back(shards[i]);
  }
  if (changed.empty())
    return answers;
  if (redis_resting(s)) {
    publish_gauges(s);  // the changes wait in memory
    return answers;
  }
  std::map<int, written> outcomes;
  try {
    flush_many(self, changed, outcomes);
    redis_ok(s);
  } catch (const std::exception& e) {
    redis_failed(s, e);
  }
  for (const auto& [shard, outcome] : outcomes) {
    if (outcome != written::lease_gone)
      continue;
    // Another node loaded this shard without these changes: the sender
    // must ask it instead.
    drop(self, shard, "another node holds it now");
    for (std::size_t i = 0; i < shards.size(); ++i)
      if (shards[i] == shard) {
        answers.features[i].clear();
        answers.refusals[i] = "merchant shard " + std::to_string(shard) + " moved to another node";
      }
  }
  for (int shard : changed)
    if (auto it = s.held.find(shard); it != s.held.end() && !it->second.unlogged.empty()) {
      publish_gauges(s);
      break;
    }
  return answers;
}

// True once every change answered for `shard` is in Redis.
caf::result<bool> sync(host_ptr self, std::int32_t shard) {
  auto& s = self->state;
  auto it = s.held.find(shard);
  if (it == s.held.end())
    return caf::make_error(caf::sec::runtime_error,
                           "merchant shard " + std::to_string(shard) + " is not held by " + s.wiring.node_name);
  auto& h = it->second;
  if (h.unlogged.empty())
    return true;
  if (redis_resting(s))
    return false;
  try {
    if (flush(self, shard, h) == written::lease_gone) {
      drop(self, shard, "another node holds it now");
      return false;
    }
    redis_ok(s);
  } catch (const std::exception& e) {
    redis_failed(s, e);
  }
  publish_gauges(s);
  return h.unlogged.empty();
}

// A clean stop: every shard checkpointed and let go, so the next holders
// take them at once instead of after the lease expires.
void give_up_all(host_ptr self) {
  auto& s = self->state;
  for (auto& [shard, h] : s.held) {
    try {
      if (checkpoint(self, shard, h) == written::lease_gone)
        throw std::runtime_error("another node holds it now");
      s.store->release(shard);
    } catch (const std::exception& e) {
      std::cerr << "vigil: merchant shard " << shard << " not checkpointed at stop: " << e.what() << "\n";
    }
  }
  s.held.clear();
  publish_gauges(s);
}

void configure(host_state& s, const config::runtime_config& c) {
  s.lateness_ms = c.allowed_lateness_ms;
  s.bounds.max_http_keys =
    std::max<std::size_t>(1, static_cast<std::size_t>(c.max_http_keys) / cluster::merchant_shard_count);
  for (auto& [shard, h] : s.held)
    h.shard->set_allowed_lateness(s.lateness_ms);
}

merchant_host_actor::behavior_type run_host(host_ptr self, merchant_host_wiring w) {
  auto& s = self->state;
  s.store = std::make_unique<connectors::merchant_shard_store>(
    w.redis, w.prefix, w.node_name + "/" + w.incarnation,
    std::chrono::duration_cast<std::chrono::milliseconds>(lease_ttl));
  configure(s, *w.config);
  s.wiring = std::move(w);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    give_up_all(self);
    self->quit(msg.reason);
  });
  spawn_ticker(self->system(), self->address(), tick_interval);  // see ticker.h
  return {
    [=](merchant_apply_atom, const std::vector<std::int32_t>& shards, const std::vector<std::string>& encoded) {
      return apply(self, shards, encoded);
    },
    [=](merchant_sync_atom, std::int32_t shard) { return sync(self, shard); },
    [=](tick_atom) { on_tick(self); },
    [=](config_atom, config_ptr next) { configure(self->state, *next); },
  };
}

} // namespace

merchant_host_actor spawn_merchant_host(caf::actor_system& sys, merchant_host_wiring w) {
  return sys.spawn<caf::detached>(run_host, std::move(w));
}

cluster_peer_actor merchant_shard_route(const predict_routes& routes, int shard) {
  if (shard < 0 || static_cast<std::size_t>(shard) >= routes.merchant_holders.size())
    return {};
  const auto& holder = routes.merchant_holders[shard];
  if (holder == routes.self)
    return routes.local;
  auto it = routes.peers.find(holder);
  return it == routes.peers.end() ? cluster_peer_actor{} : it->second;
}

} // namespace vigil::actors
