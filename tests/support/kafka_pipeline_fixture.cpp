#include "support/kafka_pipeline_fixture.h"

#include "config/runtime_config.h"
#include "pipeline/connectors/merchant_shard_store.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <thread>
#include <tuple>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vigil::testing {

using json = nlohmann::json;

// Simulated records whose ids carry a per-test prefix.
std::vector<pipeline::transaction> simulated(const std::string& prefix, int n, std::uint64_t seed) {
  pipeline::simulator_options o;
  o.seed = seed;
  o.expected_count = 100'000;
  pipeline::transaction_simulator sim{o};
  std::vector<pipeline::transaction> out;
  for (int i = 0; i < n; ++i) {
    auto tx = sim.next().tx;
    tx.transaction_id = prefix + tx.transaction_id;
    out.push_back(std::move(tx));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> as_records(const std::vector<pipeline::transaction>& txs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& tx : txs)
    out.emplace_back(tx.user_id, pipeline::to_json(tx).dump());
  return out;
}

// Predictions for ids with `prefix`: id -> every copy seen.
std::map<std::string, std::vector<json>> predictions(const std::string& prefix, std::size_t want,
                                                     std::chrono::seconds timeout) {
  std::map<std::string, std::vector<json>> by_id;
  std::size_t scanned = 0;
  consume_until(
    services().kafka, "fraud_predictions",
    [&](const std::vector<kafka_record>& records) {
      for (; scanned < records.size(); ++scanned) {
        if (records[scanned].key.rfind(prefix, 0) == 0)
          by_id[records[scanned].key].push_back(json::parse(records[scanned].value));
      }
      return by_id.size() >= want;
    },
    timeout);
  return by_id;
}

std::string unique(const std::string& name) { return name + "-" + std::to_string(::getpid()); }

// An in-process Kafka node reading `topic` in its own group, on the test
// broker and Redis.
config::runtime_config in_process_node_config(const std::string& topic, const std::string& node) {
  const auto& svc = services();
  config::runtime_config c;
  c.brokers = svc.kafka;
  c.redis = svc.redis;
  c.input_topic = topic;
  c.consumer_group = topic;
  c.node_name = node;
  c.registry_dir = trained_registry().string();
  c.http_port = 0;
  c.labels_path = (scratch_dir("kafka-" + node) / "labels.jsonl").string();
  return c;
}

// Every partition's checkpoint plus the node's part, and the cluster's
// merchant shards (what their next holders would load), as one snapshot.
pipeline::store_snapshot stored_checkpoint(const std::string& group, const std::string& topic,
                                           const std::string& node, int partitions) {
  const auto prefix = connectors::checkpoint_prefix(group, topic);
  connectors::redis_snapshot_store store{services().redis, prefix, node};
  std::vector<std::int32_t> all;
  for (int p = 0; p < partitions; ++p)
    all.push_back(p);
  auto snap = store.load_partitions(all);
  if (auto own = store.load_node())
    snap.absorb(std::move(*own));
  for (auto& [id, state] : connectors::load_all_merchant_shards(services().redis, prefix,
                                                                config::runtime_config{}.allowed_lateness_ms))
    snap.merchants[id] = std::move(state);
  return snap;
}

// Waits until the partitions' checkpoints cover `records` records in all.
bool wait_for_checkpoint(const std::string& group, const std::string& topic, const std::string& node,
                         int partitions, std::int64_t records, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::int64_t covered = 0;
    for (const auto& [partition, offset] : stored_checkpoint(group, topic, node, partitions).positions)
      covered += offset;
    if (covered >= records)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

void check_exactly_once_after_fault(const std::string& topic, const std::string& node, std::size_t count,
                                    const std::map<std::string, std::vector<nlohmann::json>>& got) {
  CHECK(got.size() == count);  // none lost
  std::size_t differing = 0;
  for (const auto& [id, all] : got)
    for (const auto& copy : all)
      differing += copy["probability"] == all.front()["probability"] &&
                       copy["feature_snapshot_id"] == all.front()["feature_snapshot_id"]
                     ? 0
                     : 1;
  CHECK(differing == 0);

  auto snap = stored_checkpoint(topic, topic, node, 1);
  CHECK(snap.positions.at(0) == static_cast<std::int64_t>(count));
  auto replay = replay_topic(topic, count);
  CHECK(snap.users.size() == replay.users().size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  REQUIRE(snap.merchants.size() == replay.merchants().size());
  CHECK(equal_states(snap.merchants, replay.merchants()) == replay.merchants().size());
}

bool ready_becomes(unsigned short port, int status, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_call(port, "GET", "/ready").status == status)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits until the log at `path` has a line matching `pattern`.
bool wait_for_log(const std::string& path, const std::regex& pattern, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::regex_search(file_text(path), pattern))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// A from-scratch replay of `topic` as the broker stores it: each partition
// in offset order (a user's records all live in one partition).
pipeline::feature_store replay_topic(const std::string& topic, std::size_t records) {
  auto stored = consume_until(services().kafka, topic,
                                       [&](const auto& r) { return r.size() >= records; },
                                       std::chrono::seconds(120));
  std::sort(stored.begin(), stored.end(), [](const auto& a, const auto& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  pipeline::feature_store replay;
  for (const auto& r : stored)
    replay.features(pipeline::parse_transaction(r.value).value->tx, true);
  return replay;
}



pid_t spawn_vigil(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "a", stderr);
    std::freopen(log.c_str(), "a", stdout);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(VIGIL_BINARY));
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(VIGIL_BINARY, argv.data());
    std::_Exit(127);
  }
  return pid;
}

std::vector<std::string> run_args(const std::string& settings) {
  const auto& svc = services();
  return {"run", "--brokers", svc.kafka, "--redis", svc.redis, "--registry",
          trained_registry().string(), "--http-port", "0", "--set", settings};
}

bool wait_exit(pid_t pid, std::chrono::seconds timeout, int* status) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int exit_status = 0;
    if (::waitpid(pid, &exit_status, WNOHANG) == pid) {
      if (status)
        *status = exit_status;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return false;
}

} // namespace vigil::testing
