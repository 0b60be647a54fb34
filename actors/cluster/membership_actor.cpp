#include "actors/cluster/membership_actor.h"

#include "actors/pipeline/ticker.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "pipeline/cluster/merchant_placement.h"
#include "pipeline/cluster/partition_owners.h"
#include "pipeline/connectors/cluster_registry.h"
#include "pipeline/connectors/cluster_settings.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <chrono>
#include <iostream>

namespace vigil::actors {
namespace {

using namespace std::chrono_literals;
using cluster::member_record;

/// Every second: announce, read the registry, connect, ask each status. A
/// peer that misses member_table::max_missed_status answers in a row counts
/// as down, and so does one whose connection the middleman drops (a closed
/// socket at once, a silent one after its connection timeout).
constexpr auto tick_interval = 1s;
constexpr auto connect_timeout = 3s;
constexpr auto status_timeout = 1s;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Peer names come from Redis: only these characters reach a metric label.
std::string label_value(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64))
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  return out;
}

struct peer_handle {
  std::string incarnation;
  cluster_peer_actor actor;
};

struct membership_state {
  std::unique_ptr<cluster::member_table> table;
  member_record self;
  std::shared_ptr<connectors::cluster_registry> registry;
  cluster_peer_actor local_peer;
  std::string token;
  std::string partitioner;
  std::shared_ptr<predict_route_board> routes;
  shared_settings_feed settings;
  std::int64_t settings_seen = 0;  ///< the newest shared settings version taken in
  std::string settings_error;      ///< why it was not adopted whole ("" = it was)
  std::map<std::string, peer_handle> links;
  cluster::node_status self_status;
  std::size_t registered = 1;
  std::string registry_error;
  std::int64_t registry_ok_at_ms = 0;
  std::set<std::string> gauged_peers;  ///< peers with a link gauge (kept at 0 once gone)
  std::string coordinator;  ///< who holds the retrain coordinator's lease ("" = not known)
};

using membership_ptr = membership_actor::stateful_pointer<membership_state>;

struct membership_metrics {
  pipeline::gauge& live = pipeline::metrics().get_gauge(
    "vigil_cluster_members", "Cluster members this node is linked to, itself included");
  pipeline::gauge& registered = pipeline::metrics().get_gauge(
    "vigil_cluster_registered_members", "Members registered in Redis, this node included");
  pipeline::counter& registry_failures = pipeline::metrics().get_counter(
    "vigil_cluster_registry_failures_total", "Rounds in which this node could not announce itself or read the "
                                             "member list in Redis");
  pipeline::counter& link_changes = pipeline::metrics().get_counter(
    "vigil_cluster_link_changes_total", "Links to peers that came up or went down");
  pipeline::gauge& coordinating = pipeline::metrics().get_gauge(
    "vigil_cluster_coordinator", "1 while this node holds the retrain coordinator's lease");
};

membership_metrics& metrics() {
  static membership_metrics m;
  return m;
}

// Who answers which partition's users now: this node's own partitions and
// its linked peers' (their last status answers).
void publish_routes(membership_ptr self) {
  auto& s = self->state;
  auto routes = std::make_shared<predict_routes>();
  routes->self = s.self.node_name;
  routes->partitioner = s.partitioner;
  routes->local = s.local_peer;
  routes->coordinator = s.coordinator;
  std::vector<cluster::peer_link> peers;
  for (const auto& [name, link] : s.table->peers())
    peers.push_back(link);
  routes->partitions = cluster::partition_owners(s.self_status, peers);
  std::vector<std::string> members{routes->self};
  for (const auto& [name, link] : s.links) {
    routes->peers.emplace(name, link.actor);
    members.push_back(name);
  }
  routes->merchant_holders = cluster::merchant_shard_holders(members);
  s.routes->publish(std::move(routes));
}

void drop_link(membership_ptr self, const std::string& name) {
  auto it = self->state.links.find(name);
  if (it == self->state.links.end())
    return;
  self->demonitor(it->second.actor.address());
  self->state.links.erase(it);
  metrics().link_changes.add(1);
  publish_routes(self);
}

void connect_failed(membership_ptr self, const member_record& r, const std::string& reason, bool refused) {
  self->state.table->on_connect_failed(r.node_name, r.incarnation, reason, refused, wall_ms());
}

void join(membership_ptr self, const member_record& r, cluster_gate_actor gate) {
  self->request(gate, connect_timeout, join_atom::value, self->state.token)
    .then(
      [=](cluster_peer_actor& peer) {
        if (!peer)
          return connect_failed(self, r, "it refused this node's token (auth_token differs)", true);
        drop_link(self, r.node_name);
        self->monitor(peer);
        self->state.links[r.node_name] = peer_handle{r.incarnation, peer};
        self->state.table->on_connected(r.node_name, r.incarnation, wall_ms());
        metrics().link_changes.add(1);
        std::cerr << "vigil: cluster link to " << r.node_name << " (" << r.host << ":" << r.cluster_port
                  << ") is up\n";
      },
      [=](caf::error& e) { connect_failed(self, r, "join: " + self->system().render(e), false); });
}

void connect(membership_ptr self, const member_record& r) {
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom::value, r.host, r.cluster_port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& published, const std::set<std::string>& interface) {
        auto where = r.host + ":" + std::to_string(r.cluster_port);
        if (!published)
          return connect_failed(self, r, "no actor published at " + where, false);
        if (interface != self->system().message_types<cluster_gate_actor>())
          return connect_failed(self, r, where + " speaks another interface (another Vigil version?)", true);
        join(self, r, caf::actor_cast<cluster_gate_actor>(published));
      },
      [=](caf::error& e) { connect_failed(self, r, self->system().render(e), false); });
}

void ask_status(membership_ptr self, const std::string& name, const peer_handle& link) {
  self->request(link.actor, status_timeout, node_status_atom::value)
    .then([=](cluster::node_status& status) { self->state.table->on_status(name, status, wall_ms()); },
          [=, incarnation = link.incarnation](caf::error& e) {
            if (self->state.table->on_status_missed(name, incarnation, self->system().render(e), wall_ms()))
              drop_link(self, name);
          });
}

void publish_metrics(membership_ptr self) {
  auto& s = self->state;
  metrics().live.set(static_cast<double>(s.table->live_members()));
  metrics().coordinating.set(s.coordinator == s.self.node_name ? 1 : 0);
  metrics().registered.set(static_cast<double>(s.registered));
  for (const auto& [name, link] : s.table->peers())
    s.gauged_peers.insert(name);
  for (const auto& name : s.gauged_peers) {
    auto it = s.table->peers().find(name);
    bool up = it != s.table->peers().end() && it->second.state == cluster::link_state::up;
    pipeline::metrics()
      .get_gauge("vigil_cluster_link_up{peer=\"" + label_value(name) + "\"}", "1 while the link to a peer is up")
      .set(up ? 1 : 0);
  }
}

void on_tick(membership_ptr self) {
  auto& s = self->state;
  const auto now = wall_ms();
  try {
    s.registry->announce(s.self);
    s.coordinator = s.registry->hold_coordinator(s.self);
    auto records = s.registry->members();
    s.registry_error.clear();
    s.registry_ok_at_ms = now;
    s.registered = records.size();
    auto outcome = s.table->on_registry(records, now);
    for (const auto& name : outcome.departed) {
      std::cerr << "vigil: cluster member " << name << " left the registry\n";
      drop_link(self, name);
    }
    for (const auto& r : outcome.connect)
      connect(self, r);
    if (auto shared = s.settings.store->read(); shared && shared->version > s.settings_seen) {
      s.settings_seen = shared->version;
      s.settings_error = s.settings.adopt(*shared);
    }
  } catch (const std::exception& e) {
    // Without the registry, links stay as the middleman reports them.
    if (s.registry_error.empty())
      std::cerr << "vigil: cluster registry unavailable: " << e.what() << "\n";
    s.registry_error = e.what();
    s.coordinator.clear();  // unknown: nobody here retrains on a lease it cannot renew
    metrics().registry_failures.add(1);
  }
  for (const auto& [name, link] : s.links)
    ask_status(self, name, link);
  self->request(s.local_peer, status_timeout, node_status_atom::value)
    .then([=](cluster::node_status& status) { self->state.self_status = std::move(status); },
          [](caf::error&) {});
  publish_routes(self);
  publish_metrics(self);
}

membership_actor::behavior_type run_membership(membership_ptr self, member_record me,
                                               std::shared_ptr<connectors::cluster_registry> registry,
                                               cluster_peer_actor local_peer, config_ptr config,
                                               std::shared_ptr<predict_route_board> routes,
                                               shared_settings_feed settings) {
  auto& s = self->state;
  s.table = std::make_unique<cluster::member_table>(me.node_name);
  s.self = std::move(me);
  s.registry = std::move(registry);
  s.local_peer = std::move(local_peer);
  s.token = config->auth_token;
  s.partitioner = config->input_partitioner;
  s.routes = std::move(routes);
  s.settings = std::move(settings);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& links = self->state.links;
    for (auto it = links.begin(); it != links.end(); ++it) {
      if (it->second.actor.address() != down.source)
        continue;
      std::cerr << "vigil: cluster link to " << it->first << " is down (" << self->system().render(down.reason)
                << ")\n";
      self->state.table->on_down(it->first, it->second.incarnation, self->system().render(down.reason),
                                 wall_ms());
      links.erase(it);
      metrics().link_changes.add(1);
      publish_routes(self);
      return;
    }
  });
  // Leaving on a clean stop: peers see it at once instead of after the TTL.
  self->attach_functor([registry = s.registry, record = s.self] { registry->withdraw(record); });
  spawn_ticker(self->system(), self->address(), tick_interval);  // see ticker.h
  return {
    [=](tick_atom) { on_tick(self); },
    [=](members_atom) {
      auto& s = self->state;
      auto view = std::make_shared<cluster::cluster_view>();
      view->self = s.self;
      view->self_status = s.self_status;
      for (const auto& [name, link] : s.table->peers())
        view->peers.push_back(link);
      view->live_members = s.table->live_members();
      view->registered_members = s.registered;
      view->registry_error = s.registry_error;
      view->registry_ok_at_ms = s.registry_ok_at_ms;
      view->settings_error = s.settings_error;
      view->coordinator = s.coordinator;
      return cluster_view_ptr{std::move(view)};
    },
    [=](config_atom, config_ptr next) { self->state.token = next->auth_token; },
  };
}

} // namespace

membership_actor spawn_membership(caf::actor_system& sys, member_record self,
                                  std::shared_ptr<connectors::cluster_registry> registry,
                                  cluster_peer_actor local_peer, config_ptr config,
                                  std::shared_ptr<predict_route_board> routes, shared_settings_feed settings) {
  return sys.spawn<caf::detached>(run_membership, std::move(self), std::move(registry), std::move(local_peer),
                                  std::move(config), std::move(routes), std::move(settings));
}

} // namespace vigil::actors
