// Cluster membership against a real Redis and Kafka: nodes register, link
// through CAF's middleman, see each other's partitions, refuse a node with
// another token, and notice a member leaving, dying or freezing.

#include "actors/node/vigil_node.h"
#include "pipeline/connectors/cluster_registry.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
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
                                                 const std::string& member_token) {
  auto c = in_process_node_config(topic, name);
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

TEST_CASE("cluster: a member killed with -9 goes down at once, a frozen one within seconds and comes back",
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
  REQUIRE(up(wait_for_view(a->http_port(), up, std::chrono::seconds(90))));

  // Frozen: its socket stays open, so only heartbeats and unanswered status
  // requests tell. Then it thaws and is linked again.
  ::kill(victim, SIGSTOP);
  auto frozen_at = std::chrono::steady_clock::now();
  auto view = wait_for_view(a->http_port(), down, std::chrono::seconds(15));
  auto noticed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - frozen_at);
  INFO(view.dump(2));
  CHECK(down(view));
  WARN("a frozen member noticed after " << noticed.count() << " ms");
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
