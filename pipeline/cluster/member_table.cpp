#include "pipeline/cluster/member_table.h"

#include <algorithm>
#include <set>

namespace vigil::cluster {

const char* to_string(link_state s) {
  switch (s) {
    case link_state::connecting: return "connecting";
    case link_state::up: return "up";
    case link_state::down: return "down";
    case link_state::refused: return "refused";
  }
  return "unknown";
}

registry_outcome member_table::on_registry(const std::vector<member_record>& records, std::int64_t now_ms) {
  registry_outcome out;
  std::set<std::string> registered;
  for (const auto& r : records) {
    if (r.node_name == self_ || !registered.insert(r.node_name).second)
      continue;
    auto it = peers_.find(r.node_name);
    if (it != peers_.end() && it->second.record.incarnation != r.incarnation) {
      out.departed.push_back(r.node_name);  // restarted: the old link is dead
      peers_.erase(it);
      it = peers_.end();
    }
    if (it == peers_.end()) {
      peer_link p;
      p.record = r;
      p.since_ms = now_ms;
      p.retry_at_ms = now_ms;
      it = peers_.emplace(r.node_name, std::move(p)).first;
    }
    auto& p = it->second;
    if ((p.state == link_state::down || p.state == link_state::refused) && p.retry_at_ms <= now_ms) {
      p.state = link_state::connecting;
      out.connect.push_back(r);
    }
  }
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (registered.count(it->first)) {
      ++it;
      continue;
    }
    out.departed.push_back(it->first);  // its registration expired or was withdrawn
    it = peers_.erase(it);
  }
  return out;
}

peer_link* member_table::find(const std::string& name, const std::string& incarnation) {
  auto it = peers_.find(name);
  return it == peers_.end() || it->second.record.incarnation != incarnation ? nullptr : &it->second;
}

void member_table::fail(peer_link& p, link_state state, const std::string& reason, std::int64_t now_ms) {
  ++p.failures;
  std::int64_t backoff = 1'000;
  for (int i = 1; i < p.failures && backoff < max_backoff_ms; ++i)
    backoff *= 2;
  p.state = state;
  p.reason = reason;
  p.since_ms = now_ms;
  p.retry_at_ms = now_ms + std::min(backoff, max_backoff_ms);
  p.missed_status = 0;
}

void member_table::on_connected(const std::string& name, const std::string& incarnation, std::int64_t now_ms) {
  auto p = find(name, incarnation);
  if (!p || p->state != link_state::connecting)
    return;
  p->state = link_state::up;
  p->reason.clear();
  p->since_ms = now_ms;
  p->failures = 0;
  p->missed_status = 0;
}

void member_table::on_connect_failed(const std::string& name, const std::string& incarnation,
                                     const std::string& reason, bool refused, std::int64_t now_ms) {
  auto p = find(name, incarnation);
  if (p && p->state == link_state::connecting)
    fail(*p, refused ? link_state::refused : link_state::down, reason, now_ms);
}

void member_table::on_down(const std::string& name, const std::string& incarnation, const std::string& reason,
                           std::int64_t now_ms) {
  auto p = find(name, incarnation);
  if (!p || p->state != link_state::up)
    return;
  p->failures = 0;  // it was up: the first reconnect comes soon
  fail(*p, link_state::down, reason, now_ms);
}

void member_table::on_status(const std::string& name, const node_status& status, std::int64_t now_ms) {
  auto p = find(name, status.incarnation);
  if (!p || p->state != link_state::up)
    return;
  p->status = status;
  p->status_at_ms = now_ms;
  p->missed_status = 0;
}

bool member_table::on_status_missed(const std::string& name, const std::string& incarnation,
                                    const std::string& reason, std::int64_t now_ms) {
  auto p = find(name, incarnation);
  if (!p || p->state != link_state::up || ++p->missed_status < max_missed_status)
    return false;
  p->failures = 0;
  fail(*p, link_state::down, "unresponsive: " + reason, now_ms);
  return true;
}

std::size_t member_table::live_members() const {
  return 1 + static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const auto& kv) {
           return kv.second.state == link_state::up;
         }));
}

} // namespace vigil::cluster
