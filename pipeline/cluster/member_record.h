#pragma once
// What a node tells the rest of its cluster about itself: the record it
// registers in Redis (where to reach it) and the status it answers over the
// middleman (what it runs and owns). Plain C++: no CAF, no Redis.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil::cluster {

/// A node's registration: one per running node, under its node_name.
struct member_record {
  std::string node_name;
  std::string host;                ///< where other nodes reach its cluster port
  std::uint16_t cluster_port = 0;
  std::string http_address;        ///< host:port of its HTTP API
  std::int64_t started_at_ms = 0;  ///< wall clock
  /// Random per process: a restarted node under the same name is a new
  /// member, and links to the old one are dropped.
  std::string incarnation;
};

nlohmann::json to_json(const member_record& r);
/// 128 random bits as 32 hex digits: a new process's incarnation (also the
/// token of its node_name lease).
std::string new_incarnation();
/// nullopt for anything but an object with every field of the right type
/// and a node name, host and incarnation that are not empty.
std::optional<member_record> member_record_from_json(const std::string& text);

/// What a node answers a peer's status request.
struct node_status {
  std::string node_name;
  std::string incarnation;
  std::vector<std::int32_t> partitions;  ///< input partitions it reads now
  std::int32_t topic_partitions = 0;     ///< how many the input topic has (0: not known yet)
  std::int32_t config_version = 0;       ///< its own config history's version
  std::int64_t settings_version = 0;     ///< the cluster's shared settings it runs (0: none yet)
  std::int32_t model_version = 0;        ///< the model it serves
  std::vector<std::int32_t> merchant_shards;  ///< global merchant shards it holds now
};

nlohmann::json to_json(const node_status& s);

} // namespace vigil::cluster
