#pragma once
// A cluster as one node sees it, and its JSON (GET /cluster). Plain C++.

#include "pipeline/cluster/member_table.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace vigil::cluster {

struct cluster_view {
  member_record self;
  node_status self_status;
  std::vector<peer_link> peers;
  std::size_t live_members = 1;
  std::size_t registered_members = 1;
  std::string registry_error;  ///< the last registry round's failure ("" = none)
  std::int64_t registry_ok_at_ms = 0;
  std::string settings_error;  ///< why the newest shared settings were not adopted whole ("" = they were)
  std::string coordinator;     ///< the node holding the retrain coordinator's lease ("" = not known)
};

/// {"enabled": true, "self", "live_members", "registered_members",
/// "registry": {"ok", "error", "last_ok_at_ms"}, "settings": {"version",
/// "error"}, "coordinator", "members": [...]}; each
/// member with its record, link state, since when, why, and the status it
/// last answered (partitions, config and model versions) with its age.
nlohmann::json to_json(const cluster_view& v, std::int64_t now_ms);

} // namespace vigil::cluster
