#pragma once
// The cluster's drift counts in Redis, so that drift is measured over every
// node's traffic (and survives any one node):
//   <prefix>:drift:v<version>:events   oldest, newest event time counted;
//                                      seq:<writer> the last share applied
//   <prefix>:drift:v<version>:m:<id>   a 10-minute bucket (kept 25 h)
//   <prefix>:drift:v<version>:d:<id>   a UTC day, all of its events (32 d)
// A bucket is a hash: "r" rows, "<i>" counter i (see drift_counts). Each
// node adds what it counted since its last share in scripts of at most
// `max_counters_per_call` counters each (a 10-minute bucket's counts go to
// it, each day's counts are summed before they go to the day), so that no
// call holds Redis for long: Redis runs one script at a time, and the
// merchant shards' log appends wait behind it. Every call has its own
// sequence number from the writer, checked by the script: applied once,
// so a retry after a lost reply counts nothing twice. Plain C++: no CAF.

#include "models/drift/live_drift.h"

#include <cstdint>
#include <cstddef>
#include <optional>
#include <string>

struct redisContext;

namespace vigil::connectors {

class drift_count_store {
 public:
  /// `writer` names this node's incarnation (node name and start), whose
  /// calls are numbered from 1.
  drift_count_store(std::string address, std::string prefix, std::string writer,
                    std::size_t max_counters_per_call = 500);

  struct added {
    std::uint64_t next_sequence = 0;  ///< the first number after this share's calls
    std::size_t calls = 0;            ///< Redis calls the share took
    std::size_t applied = 0;          ///< of them, those not applied before
  };
  /// Adds `share` in calls numbered from `first_sequence` (the same share
  /// always splits into the same calls, so retrying it with the same number
  /// applies only the calls a failure left out). Throws std::runtime_error
  /// when Redis fails.
  added add(const models::drift_counts& share, std::uint64_t first_sequence);
  /// Every node's counts for `model_version` in buckets of `counters`
  /// counters: the 144 10-minute buckets and 31 days up to the newest event
  /// counted; empty totals when nothing was shared yet. Throws
  /// std::runtime_error when Redis fails.
  models::drift_counts totals(int model_version, std::size_t counters);

 private:
  std::string key(int model_version, const std::string& part) const;
  bool add_call(redisContext* c, const models::drift_counts& call, std::uint64_t sequence);
  std::string address_, prefix_, writer_;
  std::size_t max_counters_per_call_;
};

} // namespace vigil::connectors
