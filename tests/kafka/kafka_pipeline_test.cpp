// Against a real Kafka broker (KRaft) and a real redis-server, both started
// by tests/harness on free loopback ports.

#include "actors/kafka/kafka_record_source.h"
#include "actors/kafka/redis_snapshot_store.h"
#include "actors/node/vigil_node.h"
#include "actors/pipeline/pipeline_topology.h"
#include "config/runtime_config.h"
#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/features/feature_store.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/recording_publisher.h"
#include "support/test_registry.h"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <tuple>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil;
using json = nlohmann::json;

namespace {

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
  testing::consume_until(
    testing::services().kafka, "fraud_predictions",
    [&](const std::vector<testing::kafka_record>& records) {
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
  const auto& svc = testing::services();
  config::runtime_config c;
  c.brokers = svc.kafka;
  c.redis = svc.redis;
  c.input_topic = topic;
  c.consumer_group = topic;
  c.node_name = node;
  c.registry_dir = testing::trained_registry().string();
  c.http_port = 0;
  c.labels_path = (testing::scratch_dir("kafka-" + node) / "labels.jsonl").string();
  return c;
}

// Every partition's checkpoint plus the node's part, as one snapshot.
pipeline::store_snapshot stored_checkpoint(const std::string& group, const std::string& topic,
                                           const std::string& node, int partitions) {
  actors::redis_snapshot_store store{testing::services().redis, actors::checkpoint_prefix(group, topic),
                                     node};
  std::vector<std::int32_t> all;
  for (int p = 0; p < partitions; ++p)
    all.push_back(p);
  auto snap = store.load_partitions(all);
  if (auto own = store.load_node())
    snap.absorb(std::move(*own));
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
  auto stored = testing::consume_until(testing::services().kafka, topic,
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

// How many stored states equal the replay's, key by key.
template <class Map>
std::size_t equal_states(const Map& stored, const Map& replayed) {
  std::size_t equal = 0;
  for (const auto& [id, state] : replayed)
    equal += stored.count(id) && stored.at(id) == state ? 1 : 0;
  return equal;
}

} // namespace

TEST_CASE("end to end: N transactions in, N predictions out, bad records dead-lettered with reasons",
          "[integration][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("e2e-tx");
  testing::create_topic(svc.kafka, topic, 4);
  auto txs = simulated(topic + "/", 3'000, 21);
  auto records = as_records(txs);
  records.emplace_back("bad-1", "{not json");
  records.emplace_back("bad-2", R"({"transaction_id":"x","user_id":"u","amount":-5,"currency":"EUR",
    "merchant":{"id":"m","category":"grocery"},"timestamp":"2024-01-01T00:00:00Z","location":{"country":"DE"}})");
  records.emplace_back("bad-3", R"({"transaction_id":"y"})");
  testing::produce(svc.kafka, topic, records);

  auto c = in_process_node_config(topic, "e2e");
  c.snapshot_interval_ms = 500;
  actors::vigil_node node{c, ""};
  node.start();
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  CHECK(got.size() == txs.size());
  std::size_t copies = 0;
  for (const auto& [id, all] : got)
    copies += all.size();
  CHECK(copies == txs.size());  // each transaction_id exactly once
  const auto& sample = got.begin()->second.front();
  for (const char* field : {"transaction_id", "user_id", "probability", "decision", "reasons",
                            "model_version", "feature_snapshot_id", "latency_us", "source_time_ms",
                            "features"})
    CHECK(sample.contains(field));
  CHECK(sample["model_version"].get<int>() >= 1);

  // fraud_alerts carries exactly the flagged decisions (review or decline),
  // each with its reasons.
  std::set<std::string> flagged;
  for (const auto& [id, all] : got)
    if (all.front()["decision"] != "approve")
      flagged.insert(id);
  REQUIRE_FALSE(flagged.empty());
  std::map<std::string, json> alerts;
  testing::consume_until(
    svc.kafka, "fraud_alerts",
    [&](const std::vector<testing::kafka_record>& records) {
      for (const auto& r : records)
        if (r.key.rfind(topic + "/", 0) == 0)
          alerts[r.key] = json::parse(r.value);
      return alerts.size() >= flagged.size();
    },
    std::chrono::seconds(60));
  std::set<std::string> alerted;
  for (const auto& [id, alert] : alerts) {
    alerted.insert(id);
    CHECK_FALSE(alert["reasons"].empty());
  }
  CHECK(alerted == flagged);

  auto dead = testing::consume_until(svc.kafka, topic + ".dlq",
                                     [](const auto& r) { return r.size() >= 3; }, std::chrono::seconds(60));
  REQUIRE(dead.size() == 3);
  std::map<std::string, testing::kafka_record> by_key;
  for (auto& r : dead)
    by_key[r.key] = r;
  CHECK(by_key["bad-1"].value == "{not json");  // original bytes
  CHECK(by_key["bad-1"].headers["vigil-error"] == "$: malformed JSON");
  CHECK(by_key["bad-2"].headers["vigil-error"] == "amount: must not be negative");
  CHECK(by_key["bad-3"].headers["vigil-error"].find("user_id: missing") != std::string::npos);
  CHECK(by_key["bad-3"].headers["vigil-origin"].rfind(topic + "/", 0) == 0);

  // Every metric the shipped alerting rules use is exported by a Kafka node.
  auto metrics = testing::http_call(node.http_port(), "GET", "/metrics").body;
  auto rules = file_text(std::string(VIGIL_SOURCE_DIR) + "/docker/alerts.yml");
  std::set<std::string> named;
  std::regex metric_name("vigil_[a-z0-9_]+");
  for (std::sregex_iterator it(rules.begin(), rules.end(), metric_name), end; it != end; ++it)
    named.insert(it->str());
  CHECK(named.size() >= 8);
  for (const auto& name : named) {
    INFO(name);
    CHECK(metrics.find("\n" + name) != std::string::npos);
  }

  node.stop();  // final checkpoint
  auto snap = stored_checkpoint(topic, topic, "e2e", 4);
  std::int64_t consumed = 0;
  for (const auto& [partition, offset] : snap.positions)
    consumed += offset;
  CHECK(snap.positions.size() == 4);
  CHECK(consumed == static_cast<std::int64_t>(records.size()));
}

namespace {

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

// Arguments of a `vigil run` node on the test broker and Redis.
std::vector<std::string> run_args(const std::string& settings) {
  const auto& svc = testing::services();
  return {"run", "--brokers", svc.kafka, "--redis", svc.redis, "--registry",
          testing::trained_registry().string(), "--http-port", "0", "--set", settings};
}

bool wait_exit(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return false;
}

} // namespace

TEST_CASE("kill -9 mid-stream: no transaction lost or double-counted, replay reproduces state",
          "[chaos][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("chaos-tx");
  testing::create_topic(svc.kafka, topic, 1);  // one partition: a total order to replay
  auto txs = simulated(topic + "/", 20'000, 33);
  auto dir = testing::scratch_dir("kafka-chaos");
  auto log = (dir / "vigil.log").string();
  auto args = [&](const std::string& group) {
    return run_args("input_topic=" + topic + ",consumer_group=" + group +
                    ",node_name=chaos,snapshot_interval_ms=200,labels_path=" +
                    (dir / "labels.jsonl").string() + ",batch_size=64");
  };
  std::vector<pipeline::transaction> first(txs.begin(), txs.begin() + 10'000);
  std::vector<pipeline::transaction> second(txs.begin() + 10'000, txs.end());
  testing::produce(svc.kafka, topic, as_records(first));
  auto victim = spawn_vigil(args(topic), log);
  predictions(topic + "/", 10'000, std::chrono::seconds(120));
  testing::produce(svc.kafka, topic, as_records(second));
  predictions(topic + "/", 10'500, std::chrono::seconds(60));
  ::kill(victim, SIGKILL);  // mid-stream, no final checkpoint
  ::waitpid(victim, nullptr, 0);

  auto survivor = spawn_vigil(args(topic), log);
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  // The survivor gets the partition once the group expires the victim; it
  // resumes from the victim's last checkpoint.
  CHECK(wait_for_checkpoint(topic, topic, "chaos", 1, txs.size(), std::chrono::seconds(120)));
  ::kill(survivor, SIGTERM);  // graceful: final checkpoint
  REQUIRE(wait_exit(survivor, std::chrono::seconds(60)));
  REQUIRE(got.size() == txs.size());  // none lost
  // Replayed decisions (after the kill) are identical copies: idempotent by key.
  std::size_t duplicated = 0;
  for (const auto& [id, all] : got) {
    duplicated += all.size() > 1 ? 1 : 0;
    for (const auto& copy : all) {
      CHECK(copy["probability"] == all.front()["probability"]);
      CHECK(copy["feature_snapshot_id"] == all.front()["feature_snapshot_id"]);
    }
  }
  INFO("decisions replayed after the kill: " << duplicated);

  // The checkpointed state equals a from-scratch replay of the topic: every
  // transaction counted exactly once in every window.
  auto snap = stored_checkpoint(topic, topic, "chaos", 1);
  CHECK(snap.positions.at(0) == static_cast<std::int64_t>(txs.size()));
  auto replay = replay_topic(topic, txs.size());
  REQUIRE(snap.users.size() == replay.users().size());
  REQUIRE(snap.merchants.size() == replay.merchants().size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  CHECK(equal_states(snap.merchants, replay.merchants()) == replay.merchants().size());

  // A second consumer group replays the topic from offset 0 and reaches the
  // same features and scores for every transaction.
  auto replayer = spawn_vigil(args(topic + "-replay"), log);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto again = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  ::kill(replayer, SIGTERM);
  wait_exit(replayer, std::chrono::seconds(60));
  std::size_t identical = 0;
  for (const auto& [id, all] : again) {
    bool same = true;
    for (const auto& copy : all)
      same = same && copy["feature_snapshot_id"] == all.front()["feature_snapshot_id"] &&
             copy["probability"] == all.front()["probability"];
    identical += same ? 1 : 0;
  }
  CHECK(identical == txs.size());
}

TEST_CASE("rebalance: partitions move between nodes with their Redis state, every record scored once",
          "[chaos][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("rebalance-tx");
  testing::create_topic(svc.kafka, topic, 4);
  auto txs = simulated(topic + "/", 12'000, 55);
  auto dir = testing::scratch_dir("kafka-rebalance");
  auto args = [&](const std::string& node) {
    return run_args("input_topic=" + topic + ",consumer_group=" + topic + ",node_name=" + node +
                    ",snapshot_interval_ms=60000,batch_size=64,labels_path=" +
                    (dir / (node + "-labels.jsonl")).string());
  };
  auto log_a = (dir / "a.log").string(), log_b = (dir / "b.log").string();
  std::vector<pipeline::transaction> first(txs.begin(), txs.begin() + 4'000);
  testing::produce(svc.kafka, topic, as_records(first));
  auto a = spawn_vigil(args("a"), log_a);
  predictions(topic + "/", first.size(), std::chrono::seconds(120));
  // Node b joins while records keep arriving: a checkpoints and releases
  // its partitions mid-stream, the group splits them, and b reads its share
  // from a's checkpoints. No interval checkpoint runs in this test (60 s),
  // so only the hand-over checkpoints carry state.
  auto b = spawn_vigil(args("b"), log_b);
  for (std::size_t at = first.size(); at < txs.size(); at += 200) {
    std::vector<pipeline::transaction> chunk(txs.begin() + at,
                                             txs.begin() + std::min(at + 200, txs.size()));
    testing::produce(svc.kafka, topic, as_records(chunk));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  // Node a leaves: its partitions move to b the same way.
  ::kill(a, SIGTERM);
  REQUIRE(wait_exit(a, std::chrono::seconds(60)));
  // b's second assignment: a's partitions, restored from a's final checkpoint.
  CHECK(wait_for_log(log_b, std::regex("reading partitions[\\s\\S]*reading partitions [0-9,]+ from [1-9]"),
                     std::chrono::seconds(60)));
  ::kill(b, SIGTERM);
  REQUIRE(wait_exit(b, std::chrono::seconds(60)));

  CHECK(got.size() == txs.size());  // none lost
  std::size_t copies = 0;
  for (const auto& [id, all] : got)
    copies += all.size();
  CHECK(copies == txs.size());  // none scored twice across the hand-overs

  INFO("node a:\n" << file_text(log_a) << "\nnode b:\n" << file_text(log_b));
  // Cooperative rebalancing: when b joined, a gave up only the partitions
  // that moved (one to three of four), not all of them.
  CHECK(std::regex_search(file_text(log_a),
                          std::regex("released partitions [0-9](,[0-9]){0,2} after their checkpoint")));
  CHECK(std::regex_search(file_text(log_b),
                          std::regex("from [1-9][0-9]* checkpoints \\([1-9][0-9]* users restored")));

  // Per-partition checkpoints hold every user exactly as a from-scratch
  // replay: no record lost or double-counted in any user window.
  auto snap = stored_checkpoint(topic, topic, "b", 4);
  std::int64_t consumed = 0;
  for (const auto& [partition, offset] : snap.positions)
    consumed += offset;
  CHECK(consumed == static_cast<std::int64_t>(txs.size()));
  auto replay = replay_topic(topic, txs.size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  CHECK(snap.users.size() == replay.users().size());
}

TEST_CASE("a standby node with no partition takes over when the owner leaves", "[chaos][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("standby-tx");
  testing::create_topic(svc.kafka, topic, 1);  // two nodes, one partition: one node idles
  auto txs = simulated(topic + "/", 2'000, 66);
  auto dir = testing::scratch_dir("kafka-standby");
  auto args = [&](const std::string& node) {
    return run_args("input_topic=" + topic + ",consumer_group=" + topic + ",node_name=" + node +
                    ",labels_path=" + (dir / (node + "-labels.jsonl")).string());
  };
  auto log_a = (dir / "a.log").string(), log_b = (dir / "b.log").string();
  std::vector<pipeline::transaction> first(txs.begin(), txs.begin() + 1'000);
  std::vector<pipeline::transaction> second(txs.begin() + 1'000, txs.end());
  testing::produce(svc.kafka, topic, as_records(first));
  auto a = spawn_vigil(args("a"), log_a);
  predictions(topic + "/", first.size(), std::chrono::seconds(120));
  auto b = spawn_vigil(args("b"), log_b);
  // Whichever node the join leaves without a partition must still answer
  // its (empty) assignment, or it can never take over later.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ::kill(a, SIGTERM);
  REQUIRE(wait_exit(a, std::chrono::seconds(60)));
  testing::produce(svc.kafka, topic, as_records(second));
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  ::kill(b, SIGTERM);
  REQUIRE(wait_exit(b, std::chrono::seconds(60)));
  INFO("node a:\n" << file_text(log_a) << "\nnode b:\n" << file_text(log_b));
  CHECK(got.size() == txs.size());
  std::size_t copies = 0;
  for (const auto& [id, all] : got)
    copies += all.size();
  CHECK(copies == txs.size());
  CHECK(file_text(log_b).find("reading partitions 0 from 1 checkpoints") != std::string::npos);
}

TEST_CASE("a node whose node_name another node takes stops with an error instead of running unsaved",
          "[chaos][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("fenced-tx");
  testing::create_topic(svc.kafka, topic, 1);
  testing::produce(svc.kafka, topic, as_records(simulated(topic + "/", 500, 88)));
  auto dir = testing::scratch_dir("kafka-fenced");
  auto log = (dir / "vigil.log").string();
  auto node = spawn_vigil(run_args("input_topic=" + topic + ",consumer_group=" + topic +
                                   ",node_name=fenced,labels_path=" + (dir / "labels.jsonl").string()),
                          log);
  predictions(topic + "/", 500, std::chrono::seconds(120));
  // Another node takes the name (as if this one had stalled past its lease).
  testing::redis_set(svc.redis, actors::checkpoint_prefix(topic, topic) + ":node:fenced:lease", "someone-else");
  int status = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::waitpid(node, &status, WNOHANG) != node && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (std::chrono::steady_clock::now() >= deadline) {
    ::kill(node, SIGKILL);
    ::waitpid(node, nullptr, 0);
  }
  INFO(file_text(log));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(file_text(log).find("stopping: another node took the node_name lease") != std::string::npos);
}

TEST_CASE("Redis stalling or refusing writes fails checkpoints, never state: the next one stores it all",
          "[chaos][kafka]") {
  const auto& svc = testing::services();
  REQUIRE(svc.redis_pid > 0);
  auto topic = unique("stall-tx");
  testing::create_topic(svc.kafka, topic, 1);  // one partition: merchants replay exactly too
  auto txs = simulated(topic + "/", 9'000, 77);
  auto c = in_process_node_config(topic, "stall");
  c.snapshot_interval_ms = 200;
  auto& m = pipeline::metrics();
  auto& failures = m.get_counter("vigil_checkpoint_failures_total", "");
  auto& stored = m.get_counter("vigil_checkpoints_total", "");
  auto wait_for_more = [](const pipeline::counter& counter, std::uint64_t than) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (counter.value() <= than && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return counter.value() > than;
  };
  auto part = [&](std::size_t from, std::size_t to) {
    return as_records(std::vector<pipeline::transaction>(txs.begin() + from, txs.begin() + to));
  };
  testing::produce(svc.kafka, topic, part(0, 3'000));
  actors::vigil_node node{c, ""};
  node.start();
  predictions(topic + "/", 3'000, std::chrono::seconds(120));

  // Stall: Redis stops answering while records keep coming. The save in
  // flight times out; scoring goes on.
  ::kill(svc.redis_pid, SIGSTOP);
  testing::produce(svc.kafka, topic, part(3'000, 6'000));
  CHECK(predictions(topic + "/", 6'000, std::chrono::seconds(120)).size() == 6'000);
  CHECK(wait_for_more(failures, failures.value()));
  ::kill(svc.redis_pid, SIGCONT);

  // Refusal: every write is rejected outright, so the changes those
  // checkpoints carried are certainly not stored.
  testing::redis_config_set(svc.redis, "min-replicas-to-write", "1");
  testing::produce(svc.kafka, topic, part(6'000, 9'000));
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(120));
  auto failed = failures.value();
  CHECK(wait_for_more(failures, failed));
  testing::redis_config_set(svc.redis, "min-replicas-to-write", "0");
  CHECK(got.size() == txs.size());

  // Recovered: the next stored checkpoint carries everything, not just what
  // changed since the last attempt.
  CHECK(wait_for_more(stored, stored.value()));
  node.stop();
  auto snap = stored_checkpoint(topic, topic, "stall", 1);
  CHECK(snap.positions.at(0) == static_cast<std::int64_t>(txs.size()));
  auto replay = replay_topic(topic, txs.size());
  CHECK(snap.users.size() == replay.users().size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  CHECK(equal_states(snap.merchants, replay.merchants()) == replay.merchants().size());
}

TEST_CASE("a slow sink pauses the Kafka partitions, memory stays bounded, then it catches up",
          "[integration][kafka]") {
  const auto& svc = testing::services();
  auto topic = unique("slow-tx");
  testing::create_topic(svc.kafka, topic, 2);
  auto txs = simulated(topic + "/", 3'000, 44);
  testing::produce(svc.kafka, topic, as_records(txs));

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  models::model_registry registry{testing::trained_registry()};
  auto config = std::make_shared<config::runtime_config>();
  config->batch_size = 50;
  config->max_in_flight_batches = 2;
  auto publisher = std::make_shared<testing::recording_publisher>(std::chrono::milliseconds(30));
  auto source = std::make_shared<actors::kafka_record_source>(svc.kafka, topic, topic, topic + ".dlq");
  auto& m = pipeline::metrics();
  auto& paused_ms = m.get_counter("vigil_source_paused_milliseconds_total", "");
  auto& paused = m.get_gauge("vigil_source_paused", "");
  auto& in_flight = m.get_gauge("vigil_in_flight_batches", "");
  auto& records_in = m.get_counter("vigil_records_in_total", "");
  auto paused_before = paused_ms.value();
  auto in_before = records_in.value();
  in_flight.set(0);
  auto handles = actors::start_pipeline(
    sys, {source, publisher, nullptr,
          models::load_scoring_model(registry, registry.production()->version), config, {}});
  double max_in_flight = 0;
  bool saw_paused = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (records_in.value() - in_before < txs.size() && std::chrono::steady_clock::now() < deadline) {
    max_in_flight = std::max(max_in_flight, in_flight.value());
    saw_paused = saw_paused || paused.value() > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  while (in_flight.value() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  actors::stop_pipeline(handles);
  handles = {};
  CHECK(records_in.value() - in_before == txs.size());   // caught up
  CHECK(saw_paused);                                      // partitions were paused...
  CHECK(paused_ms.value() > paused_before);               // ...and resumed
  CHECK(max_in_flight <= config->max_in_flight_batches);  // nothing queued past the credit
}
