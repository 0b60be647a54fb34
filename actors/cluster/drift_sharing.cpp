#include "actors/cluster/drift_sharing.h"

#include "actors/pipeline/ticker.h"
#include "models/drift/drift_view.h"
#include "pipeline/connectors/drift_count_store.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <iostream>

namespace vigil::actors {
namespace {

constexpr auto round_interval = std::chrono::seconds(5);
/// Rounds take at most about a twentieth of the time (see
/// drift_round_spacing), and come at least once a minute.
constexpr int max_share_of_time_inverse = 20;
constexpr auto max_round_spacing = std::chrono::seconds(60);
/// Ten minutes of rounds: a longer Redis outage loses the oldest counts.
constexpr std::size_t max_pending = 120;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

struct sharing_metrics {
  pipeline::counter& shared = pipeline::metrics().get_counter(
    "vigil_drift_shares_total", "Rounds of this node's drift counts added to the cluster's");
  pipeline::counter& failures = pipeline::metrics().get_counter(
    "vigil_drift_share_failures_total", "Rounds that could not share or read the cluster's drift counts");
  pipeline::counter& dropped = pipeline::metrics().get_counter(
    "vigil_drift_shares_dropped_total", "Drift counts dropped unshared: Redis was unreachable too long");
  pipeline::gauge& pending = pipeline::metrics().get_gauge(
    "vigil_drift_shares_pending", "This node's drift counts waiting to be shared");
  pipeline::gauge& round_seconds = pipeline::metrics().get_gauge(
    "vigil_drift_share_round_seconds", "How long this node's last drift sharing round took (share and read back)");
  pipeline::gauge& spacing_seconds = pipeline::metrics().get_gauge(
    "vigil_drift_share_spacing_seconds", "How long this node waits after its last drift sharing round");
};

struct sharing_state {
  std::chrono::steady_clock::time_point next_round_at{};
  std::shared_ptr<models::drift_view> view;
  std::shared_ptr<connectors::drift_count_store> store;
  std::deque<models::drift_counts> pending;
  std::uint64_t next_sequence = 1;
  bool failing = false;  ///< the last round failed (reported once)
  sharing_metrics metrics;
};

using sharing_ptr = drift_sharing_actor::stateful_pointer<sharing_state>;

void share_and_read(sharing_state& s) {
  for (auto& share : s.view->local().take_unshared())
    s.pending.push_back(std::move(share));
  while (s.pending.size() > max_pending) {
    s.pending.pop_front();
    s.metrics.dropped.add();
  }
  s.metrics.pending.set(static_cast<double>(s.pending.size()));
  while (!s.pending.empty()) {
    // A failure leaves the share pending with its numbers: the retry
    // applies only its calls that did not land.
    s.next_sequence = s.store->add(s.pending.front(), s.next_sequence).next_sequence;
    s.pending.pop_front();
    s.metrics.shared.add();
  }
  s.metrics.pending.set(0);
  const auto& local = s.view->local();
  const int version = local.model_version();
  if (version == 0 || local.counters() == 0) {
    s.view->cluster_unavailable("no model with a reference profile counted yet");
    return;
  }
  auto totals = s.store->totals(version, local.counters());
  if (auto report = local.report_of(totals))
    s.view->set_cluster(std::move(*report), wall_ms());
  else
    s.view->cluster_unavailable("the served model changed while reading");
}

drift_sharing_actor::behavior_type run_sharing(sharing_ptr self, std::shared_ptr<models::drift_view> view,
                                               std::shared_ptr<connectors::drift_count_store> store) {
  self->state.view = std::move(view);
  self->state.store = std::move(store);
  spawn_ticker(self->system(), self->address(), round_interval);  // see ticker.h
  return {
    [=](tick_atom) {
      auto& s = self->state;
      const auto start = std::chrono::steady_clock::now();
      if (start < s.next_round_at)
        return;
      // However the round ends, the next waits in proportion to it.
      auto space_next = [&s, start] {
        const auto end = std::chrono::steady_clock::now();
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(end - start);
        const auto spacing = drift_round_spacing(took);
        s.next_round_at = end + spacing;
        s.metrics.round_seconds.set(static_cast<double>(took.count()) / 1000.0);
        s.metrics.spacing_seconds.set(static_cast<double>(spacing.count()) / 1000.0);
      };
      try {
        share_and_read(s);
        if (s.failing)
          std::cerr << "vigil: cluster drift counts shared and read again\n";
        s.failing = false;
      } catch (const std::exception& e) {
        s.metrics.failures.add();
        s.view->cluster_unavailable(std::string("cluster counts unreadable: ") + e.what());
        if (!s.failing)
          std::cerr << ("vigil: cluster drift counts not shared (retried every round): " + std::string(e.what()) +
                        "\n");
        s.failing = true;
      }
      space_next();
    },
  };
}

} // namespace

std::chrono::milliseconds drift_round_spacing(std::chrono::milliseconds round_took) {
  return std::clamp<std::chrono::milliseconds>(round_took * max_share_of_time_inverse, round_interval,
                                               max_round_spacing);
}

drift_sharing_actor spawn_drift_sharing(caf::actor_system& sys, std::shared_ptr<models::drift_view> view,
                                        std::shared_ptr<connectors::drift_count_store> store) {
  return sys.spawn<caf::detached>(run_sharing, std::move(view), std::move(store));
}

} // namespace vigil::actors
