#pragma once
// What the Kafka pipeline tests share: simulated records, reading
// predictions back, in-process and separate-process nodes, stored
// checkpoints, and a from-scratch replay to compare state with.

#include "config/runtime_config.h"
#include "pipeline/features/feature_store.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/schema/transaction.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace vigil::testing {

/// `n` simulated transactions (seed `seed`) whose ids start with `prefix`.
std::vector<pipeline::transaction> simulated(const std::string& prefix, int n, std::uint64_t seed);
/// (key = user_id, value = JSON) records to produce.
std::vector<std::pair<std::string, std::string>> as_records(const std::vector<pipeline::transaction>& txs);
/// Reads fraud_predictions until `want` ids with `prefix` are seen (or the
/// timeout): id -> every copy seen.
std::map<std::string, std::vector<nlohmann::json>> predictions(const std::string& prefix, std::size_t want,
                                                               std::chrono::seconds timeout);
/// `name` made unique to this test process.
std::string unique(const std::string& name);

/// An in-process Kafka node reading `topic` in its own group, on the test
/// broker and Redis.
config::runtime_config in_process_node_config(const std::string& topic, const std::string& node);
/// Arguments of a `vigil run` node on the test broker and Redis.
std::vector<std::string> run_args(const std::string& settings);
/// Starts the vigil binary with `args`, its output appended to `log`.
pid_t spawn_vigil(const std::vector<std::string>& args, const std::string& log);
/// Waits for `pid` to exit (its wait status in `status`); on timeout kills
/// it and returns false.
bool wait_exit(pid_t pid, std::chrono::seconds timeout, int* status = nullptr);

/// Every partition's checkpoint plus the node's part, and the cluster's
/// merchant shards (each shard's log replayed over its checkpoint), as one
/// snapshot.
pipeline::store_snapshot stored_checkpoint(const std::string& group, const std::string& topic,
                                           const std::string& node, int partitions);
/// Waits until the partitions' checkpoints cover `records` records in all.
bool wait_for_checkpoint(const std::string& group, const std::string& topic, const std::string& node,
                         int partitions, std::int64_t records, std::chrono::seconds timeout);
/// A from-scratch replay of `topic` as the broker stores it: each partition
/// in offset order (a user's records all live in one partition).
pipeline::feature_store replay_topic(const std::string& topic, std::size_t records);

/// After a fault, with the node stopped (its last checkpoint stored): every
/// one of `count` transactions of `topic` published (`got`, see
/// predictions), duplicates identical, and user and merchant state equal to
/// a from-scratch replay, whether or not the assignment was lost meanwhile
/// (a merchant shard applies each partition's records once, by its
/// high-water marks, and answers a re-sent record as the first time).
void check_exactly_once_after_fault(const std::string& topic, const std::string& node, std::size_t count,
                                    const std::map<std::string, std::vector<nlohmann::json>>& got);

/// Polls GET /ready on `port` until it answers `status`, for at most `timeout`.
bool ready_becomes(unsigned short port, int status, std::chrono::seconds timeout);

std::string file_text(const std::string& path);
/// Waits until the log at `path` has a line matching `pattern`.
bool wait_for_log(const std::string& path, const std::regex& pattern, std::chrono::seconds timeout);

// How many stored states equal the replay's, key by key.
template <class Map>
std::size_t equal_states(const Map& stored, const Map& replayed) {
  std::size_t equal = 0;
  for (const auto& [id, state] : replayed)
    equal += stored.count(id) && stored.at(id) == state ? 1 : 0;
  return equal;
}

} // namespace vigil::testing
