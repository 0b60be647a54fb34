#pragma once
// The cluster's membership list in Redis: one key per running node,
//   <prefix>:member:<node_name>  -> its member_record as JSON, with a TTL
// renewed by announce() (every second), so a node that dies or loses Redis
// leaves the list within the TTL. Nodes of one pipeline (consumer group +
// topic) share the prefix of its checkpoints. Plain C++: no CAF.

#include "pipeline/cluster/member_record.h"

#include <chrono>
#include <string>
#include <vector>

namespace vigil::pipeline {
class counter;
}

namespace vigil::connectors {

class cluster_registry {
 public:
  /// Records beyond this many are ignored (and counted): a registry
  /// flooded with keys must not make every node connect to all of them.
  static constexpr std::size_t max_members = 256;

  cluster_registry(std::string address, std::string prefix, std::chrono::milliseconds ttl);

  /// Writes (or renews) this node's record with the TTL. Throws
  /// std::runtime_error when Redis fails.
  void announce(const cluster::member_record& self);
  /// Every registered record, by node name; malformed ones are skipped and
  /// counted. Throws std::runtime_error when Redis fails.
  std::vector<cluster::member_record> members();
  /// Deletes this node's record if it is still this incarnation's (a clean
  /// stop: peers see it leave at once). Never throws.
  void withdraw(const cluster::member_record& self) noexcept;
  /// The retrain coordinator's lease (`<prefix>:coordinator`, the TTL):
  /// takes it when free, renews it when this incarnation holds it, and
  /// returns the holder's node name. A clean withdraw gives it up. Throws
  /// std::runtime_error when Redis fails.
  std::string hold_coordinator(const cluster::member_record& self);

  std::string member_key(const std::string& node_name) const;

 private:
  std::string address_, prefix_, coordinator_key_;
  std::chrono::milliseconds ttl_;
  pipeline::counter& malformed_;
};

} // namespace vigil::connectors
