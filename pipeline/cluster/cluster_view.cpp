#include "pipeline/cluster/cluster_view.h"

#include <nlohmann/json.hpp>

namespace vigil::cluster {
namespace {

nlohmann::json member_json(const member_record& r, const char* link, std::int64_t since_ms,
                           const std::string& reason) {
  auto j = to_json(r);
  j["link"] = link;
  j["link_since_ms"] = since_ms;
  if (!reason.empty())
    j["reason"] = reason;
  return j;
}

} // namespace

nlohmann::json to_json(const cluster_view& v, std::int64_t now_ms) {
  auto members = nlohmann::json::array();
  auto self = member_json(v.self, "self", v.self.started_at_ms, "");
  self.update(to_json(v.self_status));
  members.push_back(self);
  for (const auto& p : v.peers) {
    auto j = member_json(p.record, to_string(p.state), p.since_ms, p.reason);
    if (p.status) {
      j.update(to_json(*p.status));
      j["status_age_ms"] = now_ms - p.status_at_ms;
    }
    members.push_back(std::move(j));
  }
  return {{"enabled", true},
          {"self", v.self.node_name},
          {"live_members", v.live_members},
          {"registered_members", v.registered_members},
          {"registry",
           {{"ok", v.registry_error.empty()}, {"error", v.registry_error}, {"last_ok_at_ms", v.registry_ok_at_ms}}},
          {"settings", {{"version", v.self_status.settings_version}, {"error", v.settings_error}}},
          {"coordinator", v.coordinator},
          {"members", std::move(members)}};
}

} // namespace vigil::cluster
