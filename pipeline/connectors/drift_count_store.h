#pragma once
// The cluster's drift counts in Redis, so that drift is measured over every
// node's traffic (and survives any one node):
//   <prefix>:drift:v<version>:events   oldest, newest event time counted;
//                                      seq:<writer> the last share applied
//   <prefix>:drift:v<version>:m:<id>   a 10-minute bucket (kept 25 h)
//   <prefix>:drift:v<version>:d:<id>   a UTC day, all of its events (32 d)
// A bucket is a hash: "r" rows, "<i>" counter i (see drift_counts). Each
// node adds what it counted since its last share, in one script: the share
// is applied whole or not at all, and once (its writer's sequence number
// is checked), so a retry after a lost reply counts nothing twice. Plain
// C++: no CAF.

#include "models/drift/live_drift.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::connectors {

class drift_count_store {
 public:
  /// `writer` names this node's incarnation (node name and start), whose
  /// shares are numbered from 1.
  drift_count_store(std::string address, std::string prefix, std::string writer);

  /// Adds `share` as this writer's `sequence`-th; false when that one was
  /// already applied. Throws std::runtime_error when Redis fails.
  bool add(const models::drift_counts& share, std::uint64_t sequence);
  /// Every node's counts for `model_version` in buckets of `counters`
  /// counters: the 144 10-minute buckets and 31 days up to the newest event
  /// counted; empty totals when nothing was shared yet. Throws
  /// std::runtime_error when Redis fails.
  models::drift_counts totals(int model_version, std::size_t counters);

 private:
  std::string key(int model_version, const std::string& part) const;
  std::string address_, prefix_, writer_;
};

} // namespace vigil::connectors
