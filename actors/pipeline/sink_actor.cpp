#include "actors/pipeline/sink_actor.h"

#include "actors/pipeline/vigil_atoms.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <map>

namespace vigil::actors {
namespace {

constexpr auto delivery_poll_interval = std::chrono::milliseconds(2);

struct sink_metrics {
  pipeline::counter* decisions[3] = {};
  pipeline::histogram* latency = nullptr;
  pipeline::histogram* delivery = nullptr;
};

// Registered by whoever spawns the sink, so /metrics lists them from the
// start, not once the sink's own thread first runs.
sink_metrics registered_sink_metrics() {
  sink_metrics m;
  for (auto d : {models::decision_kind::approve, models::decision_kind::review,
                 models::decision_kind::decline})
    m.decisions[static_cast<int>(d)] = &pipeline::metrics().get_counter(
      std::string("vigil_decisions_total{decision=\"") + models::to_string(d) + "\"}",
      "Decisions published, by outcome");
  m.latency = &pipeline::metrics().get_histogram(
    "vigil_decision_latency_seconds", "Source read to decision scored, per record");
  m.delivery = &pipeline::metrics().get_histogram(
    "vigil_delivery_seconds", "Last part of a batch handed to the publisher -> acknowledged");
  return m;
}

struct sink_state {
  std::shared_ptr<connectors::decision_publisher> publisher;
  int parts = 1;
  std::map<std::uint64_t, int> received;
  source_actor source;
  std::vector<decision_listener_actor> listeners;
  sink_metrics m;

  std::map<std::uint64_t, std::int64_t> sealed_at_ns;

  /// Delivered before the source subscribed (it is wired in after spawn, so
  /// the first batches can overtake the subscription): sent on subscribe.
  std::vector<std::uint64_t> unreported;

  template <class Self>
  void report_delivered(Self* self) {
    for (auto id : publisher->take_delivered()) {
      auto it = sealed_at_ns.find(id);
      if (it != sealed_at_ns.end()) {
        m.delivery->observe((steady_now_ns() - it->second) / 1e9);
        sealed_at_ns.erase(it);
      }
      if (source)
        self->send(source, batch_done_atom::value, id);
      else
        unreported.push_back(id);
    }
  }
};

sink_actor::behavior_type sink(sink_actor::stateful_pointer<sink_state> self, int parts,
                               std::shared_ptr<connectors::decision_publisher> publisher, sink_metrics metrics) {
  auto& st = self->state;
  st.publisher = std::move(publisher);
  st.parts = parts;
  st.m = metrics;
  self->send(self, tick_atom::value);
  return {
    [=](decisions_atom, std::uint64_t batch_id, decision_batch_ptr decisions) {
      auto& s = self->state;
      s.publisher->publish(batch_id, *decisions);
      for (const auto& d : *decisions) {
        if (d.shadow)
          continue;  // counted by the scorer that made it (vigil_shadow_decisions_total)
        s.m.decisions[static_cast<int>(d.decision)]->add();
        s.m.latency->observe(d.latency_us / 1e6);
      }
      for (const auto& l : s.listeners)
        self->send(l, decisions_atom::value, batch_id, decisions);
      if (++s.received[batch_id] == s.parts) {
        s.received.erase(batch_id);
        s.sealed_at_ns[batch_id] = steady_now_ns();
        s.publisher->seal(batch_id);
      }
      s.report_delivered(self);
    },
    [=](subscribe_atom, source_actor source) {
      auto& s = self->state;
      s.source = std::move(source);
      for (auto id : s.unreported)
        self->send(s.source, batch_done_atom::value, id);
      s.unreported.clear();
    },
    [=](listen_atom, decision_listener_actor listener) {
      self->state.listeners.push_back(std::move(listener));
    },
    [=](tick_atom) {
      self->state.report_delivered(self);
      self->delayed_send(self, delivery_poll_interval, tick_atom::value);
    },
  };
}

} // namespace

sink_actor spawn_sink_actor(caf::actor_system& sys, int parts,
                            std::shared_ptr<connectors::decision_publisher> publisher) {
  sink_metrics metrics = registered_sink_metrics();
  return sys.spawn<caf::detached>(sink, parts, std::move(publisher), metrics);
}

} // namespace vigil::actors
