// Cluster membership against a real Redis and Kafka: nodes register, link
// through CAF's middleman, see each other's partitions, refuse a node with
// another token, and notice a member leaving, dying or freezing.

#include "actors/node/vigil_node.h"
#include "models/registry/model_registry.h"
#include "pipeline/connectors/cluster_registry.h"
#include "pipeline/connectors/cluster_settings.h"
#include "pipeline/connectors/kafka_partitioner.h"
#include "pipeline/schema/transaction_json.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

using namespace vigil;
using namespace vigil::testing;
using json = nlohmann::json;

namespace {

const std::string token = "cluster-test-token";

json cluster_view(unsigned short port, const std::string& bearer = token) {
  auto r = http_call(port, "GET", "/cluster", "", bearer);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

const json* member(const json& view, const std::string& name) {
  for (const auto& m : view["members"])
    if (m["node_name"] == name)
      return &m;
  return nullptr;
}

std::string link_of(const json& view, const std::string& name) {
  auto m = member(view, name);
  return m ? (*m)["link"].get<std::string>() : "absent";
}

// Polls `port`'s view until `ok(view)`, for at most `timeout`; the last view.
json wait_for_view(unsigned short port, const std::function<bool(const json&)>& ok, std::chrono::seconds timeout,
                   const std::string& bearer = token) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json view = cluster_view(port, bearer);
  while (!ok(view) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    view = cluster_view(port, bearer);
  }
  return view;
}

std::unique_ptr<actors::vigil_node> start_member(const std::string& topic, const std::string& name,
                                                 const std::string& member_token,
                                                 const std::string& registry_dir = "") {
  auto c = in_process_node_config(topic, name);
  if (!registry_dir.empty())
    c.registry_dir = registry_dir;
  c.auth_token = member_token;
  c.auth_token_path = (scratch_dir("cluster-" + name) / "token").string();
  c.readback_decisions = 0;
  auto node = std::make_unique<actors::vigil_node>(c, "");
  node->start();
  return node;
}

bool all_up(const json& view, std::size_t members) {
  if (view["live_members"] != members || view["members"].size() != members)
    return false;
  for (const auto& m : view["members"])
    if (m["link"] != "self" && m["link"] != "up")
      return false;
  return true;
}

} // namespace

TEST_CASE("cluster registry: records live while renewed, leave on withdraw or expiry, bad ones are skipped",
          "[integration][cluster][redis]") {
  const auto& redis = services().redis;
  auto prefix = "vigil:test:" + unique("registry");
  connectors::cluster_registry registry{redis, prefix, std::chrono::milliseconds(1500)};
  cluster::member_record a{"a", "127.0.0.1", 4001, "127.0.0.1:8001", 1, cluster::new_incarnation()};
  cluster::member_record b{"b", "127.0.0.1", 4002, "127.0.0.1:8002", 2, cluster::new_incarnation()};
  registry.announce(a);
  registry.announce(b);
  redis_set(redis, registry.member_key("junk"), "{not json");
  redis_set(redis, registry.member_key("liar"), cluster::to_json(a).dump());  // a's record under another key
  auto members = registry.members();
  REQUIRE(members.size() == 2);
  CHECK(members[0].node_name == "a");
  CHECK(members[0].incarnation == a.incarnation);
  CHECK(members[1].cluster_port == 4002);

  // Withdrawing another incarnation's record leaves it alone.
  auto stale_b = b;
  stale_b.incarnation = cluster::new_incarnation();
  registry.withdraw(stale_b);
  CHECK(registry.members().size() == 2);
  registry.withdraw(b);
  members = registry.members();
  REQUIRE(members.size() == 1);
  CHECK(members[0].node_name == "a");

  // Unrenewed, a's record expires with its TTL.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  CHECK(registry.members().empty());
}

TEST_CASE("cluster settings: each change raises the version and keeps the other part, a corrupt entry is refused",
          "[integration][cluster][redis]") {
  const auto& redis = services().redis;
  auto prefix = "vigil:test:" + unique("settings");
  connectors::cluster_settings_store store{redis, prefix};
  CHECK_FALSE(store.read());  // nothing shared yet
  CHECK(store.publish_config({{"decline_threshold", 0.8}}, "a: config") == 1);
  CHECK(store.publish_model(7, "b: promote") == 2);
  auto s = store.read();
  REQUIRE(s);
  CHECK(s->version == 2);
  CHECK(s->live == json{{"decline_threshold", 0.8}});
  CHECK(s->model == 7);
  CHECK(s->origin == "b: promote");
  CHECK(store.publish_config({{"decline_threshold", 0.7}}, "c: config") == 3);
  CHECK(store.read()->model == 7);
  redis_set(redis, prefix + "-broken:settings", "x");  // a string where a hash belongs
  connectors::cluster_settings_store broken{redis, prefix + "-broken"};
  CHECK_THROWS(broken.read());
}

TEST_CASE("cluster: three nodes link up, report their partitions, refuse a stranger, and see one leave",
          "[integration][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("cluster-tx");
  create_topic(svc.kafka, topic, 4);
  auto a = start_member(topic, "a", token);
  auto b = start_member(topic, "b", token);
  auto c = start_member(topic, "c", token);

  // Every node sees all three up, each reading some of the partitions and
  // together each one once (once the consumer group has settled).
  for (auto* node : {a.get(), b.get(), c.get()}) {
    auto view = wait_for_view(
      node->http_port(),
      [](const json& v) {
        if (!all_up(v, 3))
          return false;
        std::multiset<int> partitions;
        for (const auto& m : v["members"]) {
          if (m.value("partitions", json::array()).empty())
            return false;
          for (const auto& p : m["partitions"])
            partitions.insert(p.get<int>());
        }
        return partitions == std::multiset<int>{0, 1, 2, 3};
      },
      std::chrono::seconds(120));
    INFO(view.dump(2));
    REQUIRE(all_up(view, 3));
    CHECK(view["registry"]["ok"] == true);
    for (const auto& m : view["members"]) {
      CHECK(m["host"] == "127.0.0.1");
      CHECK(m["cluster_port"].get<int>() > 0);
      CHECK(m["model_version"].get<int>() > 0);
      CHECK(m["config_version"].get<int>() >= 1);
    }
  }
  auto metrics = http_call(a->http_port(), "GET", "/metrics").body;
  CHECK(std::regex_search(metrics, std::regex("vigil_cluster_link_up\\{peer=\"b\"\\} 1")));
  CHECK(std::regex_search(metrics, std::regex("vigil_cluster_link_up\\{peer=\"c\"\\} 1")));

  // Without the token, where members listen is not shown.
  auto anonymous = cluster_view(a->http_port(), "");
  CHECK(anonymous["redacted"] == true);
  CHECK((*member(anonymous, "b"))["host"] == "(redacted)");
  CHECK((*member(anonymous, "b"))["link"] == "up");
  CHECK(http_call(a->http_port(), "GET", "/cluster", "", "wrong-token-123").status == 403);

  // A node with another token registers, but nobody lets it join, nor does
  // it let them.
  auto stranger = start_member(topic, "stranger", "another-token-456");
  auto refused = wait_for_view(a->http_port(), [](const json& v) { return link_of(v, "stranger") == "refused"; },
                               std::chrono::seconds(30));
  CHECK(link_of(refused, "stranger") == "refused");
  CHECK(refused["live_members"] == 3);
  auto strangers_view = wait_for_view(
    stranger->http_port(),
    [](const json& v) { return link_of(v, "a") == "refused" && link_of(v, "b") == "refused"; },
    std::chrono::seconds(30), "another-token-456");
  CHECK(strangers_view["live_members"] == 1);
  CHECK(std::regex_search(http_call(a->http_port(), "GET", "/metrics").body,
                          std::regex("vigil_cluster_joins_refused_total [1-9]")));
  stranger->stop();

  // A clean stop withdraws c's registration: the others drop it at once.
  c->stop();
  for (auto* node : {a.get(), b.get()}) {
    auto view = wait_for_view(node->http_port(), [](const json& v) { return link_of(v, "c") == "absent"; },
                              std::chrono::seconds(10));
    CHECK(link_of(view, "c") == "absent");
    CHECK(view["live_members"] == 2);
  }
}

TEST_CASE("cluster: /predict on any node answers as the node that reads the user's partition",
          "[integration][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("cluster-predict");
  create_topic(svc.kafka, topic, 4);
  std::vector<std::unique_ptr<actors::vigil_node>> nodes;
  for (const char* name : {"a", "b", "c"})
    nodes.push_back(start_member(topic, name, token));
  std::map<int, std::string> reader;  // partition -> node, once the group has settled
  wait_for_view(
    nodes[0]->http_port(),
    [&](const json& v) {
      reader.clear();
      if (!all_up(v, 3))
        return false;
      for (const auto& m : v["members"]) {
        if (m.value("partitions", json::array()).empty())
          return false;
        for (const auto& p : m["partitions"])
          reader[p.get<int>()] = m["node_name"];
      }
      return reader.size() == 4;
    },
    std::chrono::seconds(120));
  REQUIRE(reader.size() == 4);

  auto txs = simulated(topic + "/", 3'000, 51);
  produce(svc.kafka, topic, as_records(txs));
  REQUIRE(predictions(topic + "/", txs.size(), std::chrono::seconds(120)).size() == txs.size());
  // The partitioner /predict routes by is the producer's.
  auto stored = consume_until(svc.kafka, topic, [&](const auto& got) { return got.size() >= txs.size(); },
                              std::chrono::seconds(60));
  for (const auto& record : stored)
    REQUIRE(connectors::partition_of(record.key, 4, "consistent_random") == record.partition);

  // Each user's next transaction, asked of every node: one answer, the
  // owner's, with the user's history in it.
  std::map<std::string, pipeline::transaction> next;
  for (const auto& tx : txs)
    next[tx.user_id] = tx;
  std::vector<pipeline::transaction> probes;
  for (auto& [user, tx] : next) {
    if (probes.size() == 24)
      break;
    tx.transaction_id = "probe-" + user;
    tx.event_time_ms += 60'000;
    probes.push_back(tx);
  }
  auto answer = [](unsigned short port, const std::string& body) {
    auto r = http_call(port, "POST", "/predict?features=true", body);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto j = json::parse(r.body);
    for (auto* decision : j.contains("results") ? std::vector<json*>{} : std::vector<json*>{&j})
      decision->erase("latency_us");
    if (j.contains("results"))
      for (auto& d : j["results"])
        d.erase("latency_us");
    return j;
  };
  std::set<std::string> owners_asked;
  json singles = json::array();
  for (const auto& probe : probes) {
    auto body = pipeline::to_json(probe).dump();
    auto first = answer(nodes[0]->http_port(), body);
    CHECK(first["features"]["user_count_30d"].get<double>() >= 1);  // its history, not a stranger's
    for (auto& node : nodes)
      CHECK(answer(node->http_port(), body) == first);
    owners_asked.insert(reader[connectors::partition_of(probe.user_id, 4, "consistent_random")]);
    singles.push_back(first);
  }
  CHECK(owners_asked.size() == 3);  // every node answered for its users
  // An array spanning every owner comes back whole, in order.
  json array = json::array();
  for (const auto& probe : probes)
    array.push_back(pipeline::to_json(probe));
  auto together = answer(nodes[1]->http_port(), array.dump());
  CHECK(together["results"] == singles);
  CHECK(std::regex_search(http_call(nodes[1]->http_port(), "GET", "/metrics").body,
                          std::regex("vigil_predict_forwarded_total [1-9]")));

  // Drift is measured over every node's traffic: each node reports the
  // cluster's counts, which are the sum of what each node counted.
  auto month_rows = [](const json& rows_by_window) {
    for (const auto& w : rows_by_window)
      if (w["window"] == "30d")
        return w["rows"].get<std::int64_t>();
    return std::int64_t{-1};
  };
  std::vector<json> drift(nodes.size());
  std::int64_t counted_by_nodes = 0;
  auto settled = [&] {
    counted_by_nodes = 0;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      auto r = http_call(nodes[n]->http_port(), "GET", "/models");
      REQUIRE(r.status == 200);
      drift[n] = json::parse(r.body)["drift"];
      if (drift[n]["scope"] != "cluster")
        return false;
      counted_by_nodes += drift[n]["this_node_rows"]["30d"].get<std::int64_t>();
    }
    for (const auto& d : drift)
      if (month_rows(d["windows"]) != counted_by_nodes)
        return false;
    return counted_by_nodes > 0;
  };
  auto drift_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (!settled() && std::chrono::steady_clock::now() < drift_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  INFO(drift[0].dump().substr(0, 600));
  REQUIRE(settled());
  for (const auto& d : drift)  // every node counted some of it
    CHECK(d["this_node_rows"]["30d"].get<std::int64_t>() < counted_by_nodes);
  CHECK(counted_by_nodes >= static_cast<std::int64_t>(txs.size() / 8));  // one decision in 8 is counted
  CHECK(std::regex_search(http_call(nodes[0]->http_port(), "GET", "/metrics").body,
                          std::regex("vigil_drift_shares_total [1-9]")));
}

TEST_CASE("cluster: a config change, a token rotation and a promotion made on one node reach every node",
          "[integration][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("cluster-settings");
  create_topic(svc.kafka, topic, 3);
  // One registry folder for the cluster (as with Docker's shared volume),
  // with a second version to promote.
  auto registry_dir = scratch_dir("cluster-registry") / "registry";
  std::filesystem::copy(trained_registry(), registry_dir, std::filesystem::copy_options::recursive);
  models::model_registry registry{registry_dir};
  auto first = registry.production();
  REQUIRE(first);
  const int second = registry.add(registry.model_json(first->version), first->metadata);
  for (const char* file : {"sample_rows.bin", "reference_profile.json"})
    if (std::filesystem::exists(registry.version_dir(first->version) / file))
      std::filesystem::copy_file(registry.version_dir(first->version) / file, registry.version_dir(second) / file);
  std::vector<std::unique_ptr<actors::vigil_node>> nodes;
  for (const char* name : {"a", "b", "c"})
    nodes.push_back(start_member(topic, name, token, registry_dir.string()));
  REQUIRE(all_up(wait_for_view(nodes[0]->http_port(), [](const json& v) { return all_up(v, 3); },
                               std::chrono::seconds(60)),
                 3));
  auto everywhere = [&](const std::function<bool(unsigned short)>& ok) {
    for (int i = 0; i < 100; ++i) {
      if (std::all_of(nodes.begin(), nodes.end(), [&](const auto& n) { return ok(n->http_port()); }))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  auto config_of = [](unsigned short port, const std::string& bearer) {
    auto r = http_call(port, "GET", "/config", "", bearer);
    return r.status == 200 ? json::parse(r.body)["config"] : json();
  };

  // A live change on b: every node runs it, at the same shared version.
  REQUIRE(http_call(nodes[1]->http_port(), "PATCH", "/config", R"({"decline_threshold": 0.85})", token).status == 200);
  CHECK(everywhere([&](unsigned short port) { return config_of(port, token).value("decline_threshold", 0.0) == 0.85; }));
  CHECK(everywhere([&](unsigned short port) {
    auto v = cluster_view(port);
    std::set<std::int64_t> versions;
    for (const auto& m : v["members"])
      versions.insert(m.value("settings_version", std::int64_t{-1}));
    return versions.size() == 1 && *versions.begin() > 0 && v["settings"]["error"] == "";
  }));
  // A refused change is refused whole, on every node: nothing is shared.
  auto before = cluster_view(nodes[0]->http_port())["settings"]["version"];
  CHECK(http_call(nodes[2]->http_port(), "PATCH", "/config", R"({"decline_threshold": 7})", token).status == 422);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(cluster_view(nodes[0]->http_port())["settings"]["version"] == before);

  // A promotion on c: every node serves the second version.
  auto promoted = http_call(nodes[2]->http_port(), "POST", "/models/" + std::to_string(second) + "/promote", "", token);
  INFO(promoted.body);
  REQUIRE(promoted.status == 200);
  CHECK(everywhere([&](unsigned short port) {
    auto r = http_call(port, "GET", "/models");
    return r.status == 200 && json::parse(r.body).value("serving_version", 0) == second;
  }));

  // The token rotated on a: every node takes the new one and refuses the old.
  const std::string rotated = "rotated-token-789";
  REQUIRE(http_call(nodes[0]->http_port(), "PATCH", "/config", json{{"auth_token", rotated}}.dump(), token).status ==
          200);
  CHECK(everywhere([&](unsigned short port) {
    return http_call(port, "GET", "/config", "", rotated).status == 200 &&
           http_call(port, "GET", "/config", "", token).status == 403;
  }));
  CHECK(all_up(cluster_view(nodes[1]->http_port(), rotated), 3));
}

TEST_CASE("cluster: a member killed with -9 goes down at once, a frozen one within seconds and comes back, "
          "its users refused meanwhile",
          "[chaos][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("cluster-chaos");
  create_topic(svc.kafka, topic, 2);
  auto a = start_member(topic, "a", token);
  auto dir = scratch_dir("cluster-chaos");
  auto start_victim = [&](const std::string& log) {
    return spawn_vigil(run_args("input_topic=" + topic + ",consumer_group=" + topic +
                                ",node_name=victim,readback_decisions=0,auth_token=" + token +
                                ",auth_token_path=" + (dir / "token").string() +
                                ",labels_path=" + (dir / "labels.jsonl").string()),
                       log);
  };
  auto up = [](const json& v) { return link_of(v, "victim") == "up"; };
  auto down = [](const json& v) { return link_of(v, "victim") == "down" || link_of(v, "victim") == "absent"; };

  auto victim = start_victim((dir / "victim-1.log").string());
  auto reads = [](const json& v) {
    auto m = member(v, "victim");
    return m && (*m)["link"] == "up" && !m->value("partitions", json::array()).empty();
  };
  auto settled = wait_for_view(a->http_port(), reads, std::chrono::seconds(120));
  REQUIRE(reads(settled));
  // A user whose partition the victim reads, and a transaction of theirs.
  // The group may still move a partition while it settles: the choice is
  // checked against a's view again right before the freeze.
  auto probe = simulated(topic + "/", 1, 5).front();
  auto victim_reads = [&](int partition) {
    const auto view = cluster_view(a->http_port());
    auto m = member(view, "victim");
    if (!m)
      return false;
    for (const auto& p : m->value("partitions", json::array()))
      if (p.get<int>() == partition)
        return true;
    return false;
  };
  int victims_partition = (*member(settled, "victim"))["partitions"][0].get<int>();
  testing::client_response served;
  for (int attempt = 0; attempt < 5; ++attempt) {
    for (int i = 0; connectors::partition_of(probe.user_id, 2, "consistent_random") != victims_partition; ++i)
      probe.user_id = "user-" + std::to_string(i);
    // Routes follow the members' status answers, a second or two behind.
    served = http_call(a->http_port(), "POST", "/predict", pipeline::to_json(probe).dump());
    for (int i = 0; i < 100 && served.status != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      served = http_call(a->http_port(), "POST", "/predict", pipeline::to_json(probe).dump());
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // a view at least a round newer
    if (victim_reads(victims_partition))
      break;
    victims_partition = 1 - victims_partition;
  }
  INFO(served.body);
  REQUIRE(served.status == 200);
  REQUIRE(victim_reads(victims_partition));

  // Frozen: its socket stays open, so only heartbeats and unanswered status
  // requests tell. Then it thaws and is linked again. Meanwhile its users
  // are refused, not scored here without their history.
  ::kill(victim, SIGSTOP);
  auto frozen_at = std::chrono::steady_clock::now();
  auto refused = std::async(std::launch::async, [&] {
    return http_call(a->http_port(), "POST", "/predict", pipeline::to_json(probe).dump());
  });
  auto view = wait_for_view(a->http_port(), down, std::chrono::seconds(15));
  auto noticed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - frozen_at);
  INFO(view.dump(2));
  CHECK(down(view));
  WARN("a frozen member noticed after " << noticed.count() << " ms");
  auto forwarded = refused.get();  // sent to the frozen owner, which never answers
  WARN("its user meanwhile: " << forwarded.status << " " << forwarded.body);
  CHECK(forwarded.status == 503);
  CHECK(json::parse(forwarded.body)["code"] == "pipeline_unavailable");
  // Once its link is down, its users have no owner: refused at once.
  auto orphan = http_call(a->http_port(), "POST", "/predict", pipeline::to_json(probe).dump());
  WARN("and once it is down: " << orphan.status << " " << orphan.body);
  CHECK(orphan.status == 503);
  ::kill(victim, SIGCONT);
  CHECK(up(wait_for_view(a->http_port(), up, std::chrono::seconds(30))));

  // kill -9: its connection closes, the link goes down without waiting for
  // a timeout; its registration expires after the TTL.
  ::kill(victim, SIGKILL);
  ::waitpid(victim, nullptr, 0);
  view = wait_for_view(a->http_port(), down, std::chrono::seconds(5));
  CHECK(down(view));
  view = wait_for_view(a->http_port(), [](const json& v) { return link_of(v, "victim") == "absent"; },
                       std::chrono::seconds(15));
  CHECK(link_of(view, "victim") == "absent");
  CHECK(view["live_members"] == 1);

  // A restart under the same name is a new incarnation, linked again.
  victim = start_victim((dir / "victim-2.log").string());
  CHECK(up(wait_for_view(a->http_port(), up, std::chrono::seconds(90))));
  ::kill(victim, SIGTERM);
  CHECK(wait_exit(victim, std::chrono::seconds(60)));
}

TEST_CASE("cluster: one coordinator, elected in Redis, retrains on every node's labels, /feedback and /retrain "
          "on any node reach it, it fails over on leaving",
          "[integration][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("cluster-coordinator");
  create_topic(svc.kafka, topic, 4);
  auto registry_dir = scratch_dir("cluster-coordinator-registry") / "registry";
  std::filesystem::copy(trained_registry(), registry_dir, std::filesystem::copy_options::recursive);
  std::map<std::string, std::unique_ptr<actors::vigil_node>> nodes;
  for (const char* name : {"a", "b", "c"})
    nodes[name] = start_member(topic, name, token, registry_dir.string());
  auto coordinator_seen_by_all = [&] {
    std::set<std::string> seen;
    for (const auto& [name, node] : nodes)
      seen.insert(cluster_view(node->http_port())["coordinator"].get<std::string>());
    return seen.size() == 1 && !seen.begin()->empty() ? *seen.begin() : std::string();
  };
  std::string coordinator;
  for (int i = 0; i < 150 && coordinator.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    coordinator = coordinator_seen_by_all();
  }
  REQUIRE(nodes.count(coordinator) == 1);
  REQUIRE(all_up(wait_for_view(nodes["a"]->http_port(), [](const json& v) { return all_up(v, 3); },
                               std::chrono::seconds(60)), 3));
  auto txs = simulated(topic + "/", 2'400, 17);
  produce(svc.kafka, topic, as_records(txs));
  REQUIRE(predictions(topic + "/", txs.size(), std::chrono::seconds(120)).size() == txs.size());

  // Labels for every transaction, posted to a node that is not the
  // coordinator: each was scored by one of the three, and joins there.
  const std::string other = coordinator == "a" ? "b" : "a";
  std::size_t joined = 0, unknown = 0;
  for (std::size_t from = 0; from < txs.size(); from += 800) {  // a request carries at most 1,000
    json labels = json::array();
    for (std::size_t i = from; i < std::min(from + 800, txs.size()); ++i)
      labels.push_back({{"transaction_id", txs[i].transaction_id}, {"is_fraud", i % 8 == 0}});
    auto fed = http_call(nodes[other]->http_port(), "POST", "/feedback", labels.dump(), token);
    INFO(fed.body);
    REQUIRE(fed.status == 200);
    auto receipt = json::parse(fed.body);
    joined += receipt["joined"].get<std::size_t>();
    unknown += receipt["unknown_transaction_ids"].size();
  }
  CHECK(joined == txs.size());
  CHECK(unknown == 0);
  // Every node holds every labelled row, whichever node scored it.
  auto labelled_rows = [&](const std::string& name) {
    auto r = http_call(nodes[name]->http_port(), "GET", "/models");
    return r.status == 200 ? json::parse(r.body)["retraining"]["labelled_rows"].get<std::size_t>() : 0;
  };
  for (const auto& [name, node] : nodes) {
    std::size_t rows = 0;
    for (int i = 0; i < 50 && rows < txs.size(); ++i, std::this_thread::sleep_for(std::chrono::milliseconds(100)))
      rows = labelled_rows(name);
    INFO(name);
    CHECK(rows == txs.size());
  }
  // And every node's label weeks count every first label once, whichever
  // node scored it.
  for (const auto& [name, node] : nodes) {
    std::int64_t counted = 0, fraud = 0;
    const auto weeks = json::parse(http_call(node->http_port(), "GET", "/models").body)["drift"]["label_weeks"];
    for (const auto& week : weeks) {
      counted += week["labels"].get<std::int64_t>();
      fraud += week["fraud"].get<std::int64_t>();
    }
    INFO(name);
    CHECK(counted == static_cast<std::int64_t>(txs.size()));
    CHECK(fraud == static_cast<std::int64_t>(txs.size() / 8));
  }

  // A retrain asked of another node runs on the coordinator, and only there.
  auto started = http_call(nodes[other]->http_port(), "POST", "/retrain", "", token);
  INFO(started.body);
  REQUIRE(started.status == 202);
  CHECK(json::parse(started.body)["status"] == "started");
  auto last_run = [&](const std::string& name) {
    auto r = http_call(nodes[name]->http_port(), "GET", "/models");
    const auto last = json::parse(r.body)["retraining"]["last_run"];  // null until a run ends
    return last.is_object() ? last["outcome"].get<std::string>() : std::string();
  };
  std::string outcome;
  for (int i = 0; i < 600 && outcome.empty(); ++i, std::this_thread::sleep_for(std::chrono::milliseconds(200)))
    outcome = last_run(coordinator);
  CHECK((outcome == "promoted" || outcome == "rejected"));
  CHECK(last_run(other).empty());

  // The coordinator leaves: another member takes the lease within seconds.
  nodes[coordinator]->stop();
  nodes.erase(coordinator);
  std::string next;  // the views name the old one for up to a round
  for (int i = 0; i < 150 && nodes.count(next) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    next = coordinator_seen_by_all();
  }
  for (const auto& [name, node] : nodes)
    UNSCOPED_INFO(name << " sees " << cluster_view(node->http_port()).dump());
  CHECK(nodes.count(next) == 1);
}
