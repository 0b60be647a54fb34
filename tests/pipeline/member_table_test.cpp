// The cluster's membership state machine: whom to connect, when to retry,
// when a peer counts as down or gone.

#include "pipeline/cluster/cluster_view.h"
#include "pipeline/cluster/member_table.h"
#include "pipeline/cluster/partition_owners.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil::cluster;

namespace {

member_record record(const std::string& name, const std::string& incarnation = "i1") {
  return member_record{name, "10.0.0.1", 4000, "10.0.0.1:8080", 1000, incarnation};
}

std::vector<std::string> names(const std::vector<member_record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records)
    out.push_back(r.node_name);
  return out;
}

node_status status_of(const std::string& name, const std::string& incarnation = "i1") {
  node_status s;
  s.node_name = name;
  s.incarnation = incarnation;
  s.partitions = {1, 3};
  s.config_version = 4;
  s.model_version = 2;
  return s;
}

} // namespace

TEST_CASE("member table: registered peers are connected once, and come up", "[unit][cluster]") {
  member_table t{"a"};
  auto first = t.on_registry({record("a"), record("b"), record("c")}, 0);
  CHECK(names(first.connect) == std::vector<std::string>{"b", "c"});  // never itself
  CHECK(first.departed.empty());
  // Connects in flight are not started again.
  CHECK(t.on_registry({record("a"), record("b"), record("c")}, 500).connect.empty());
  t.on_connected("b", "i1", 600);
  CHECK(t.peers().at("b").state == link_state::up);
  CHECK(t.peers().at("c").state == link_state::connecting);
  CHECK(t.live_members() == 2);
  t.on_status("b", status_of("b"), 700);
  REQUIRE(t.peers().at("b").status);
  CHECK(t.peers().at("b").status->partitions == std::vector<std::int32_t>{1, 3});
}

TEST_CASE("member table: failed connects back off, doubling to a bound", "[unit][cluster]") {
  member_table t{"a"};
  std::int64_t now = 0;
  t.on_registry({record("b")}, now);
  std::vector<std::int64_t> waits;
  for (int i = 0; i < 6; ++i) {
    t.on_connect_failed("b", "i1", "connection refused", false, now);
    const auto& p = t.peers().at("b");
    CHECK(p.state == link_state::down);
    CHECK(p.reason == "connection refused");
    waits.push_back(p.retry_at_ms - now);
    CHECK(t.on_registry({record("b")}, p.retry_at_ms - 1).connect.empty());  // not before its time
    now = p.retry_at_ms;
    CHECK(names(t.on_registry({record("b")}, now).connect) == std::vector<std::string>{"b"});
  }
  CHECK(waits == std::vector<std::int64_t>{1000, 2000, 4000, 8000, 8000, 8000});
  // A success resets the backoff.
  t.on_connected("b", "i1", now);
  CHECK(t.peers().at("b").failures == 0);
}

TEST_CASE("member table: a refused join is shown as refused and retried", "[unit][cluster]") {
  member_table t{"a"};
  t.on_registry({record("b")}, 0);
  t.on_connect_failed("b", "i1", "it refused this node's token", true, 10);
  CHECK(t.peers().at("b").state == link_state::refused);
  CHECK(t.live_members() == 1);
  CHECK(names(t.on_registry({record("b")}, 1010).connect) == std::vector<std::string>{"b"});
}

TEST_CASE("member table: a lost link goes down and reconnects on the next round", "[unit][cluster]") {
  member_table t{"a"};
  t.on_registry({record("b")}, 0);
  t.on_connected("b", "i1", 10);
  t.on_down("b", "i1", "remote_link_unreachable", 2000);
  const auto& p = t.peers().at("b");
  CHECK(p.state == link_state::down);
  CHECK(p.since_ms == 2000);
  CHECK(p.reason == "remote_link_unreachable");
  CHECK(t.live_members() == 1);
  CHECK(names(t.on_registry({record("b")}, 3000).connect) == std::vector<std::string>{"b"});
}

TEST_CASE("member table: a peer that stops answering status goes down after three misses", "[unit][cluster]") {
  member_table t{"a"};
  t.on_registry({record("b")}, 0);
  t.on_connected("b", "i1", 10);
  CHECK_FALSE(t.on_status_missed("b", "i1", "request_timeout", 1000));
  CHECK_FALSE(t.on_status_missed("b", "i1", "request_timeout", 2000));
  t.on_status("b", status_of("b"), 2500);  // an answer resets the count
  CHECK_FALSE(t.on_status_missed("b", "i1", "request_timeout", 3000));
  CHECK_FALSE(t.on_status_missed("b", "i1", "request_timeout", 4000));
  CHECK(t.on_status_missed("b", "i1", "request_timeout", 5000));
  CHECK(t.peers().at("b").state == link_state::down);
  CHECK(t.peers().at("b").reason == "unresponsive: request_timeout");
}

TEST_CASE("member table: a restarted peer replaces its old incarnation, stale events change nothing",
          "[unit][cluster]") {
  member_table t{"a"};
  t.on_registry({record("b", "old")}, 0);
  t.on_connected("b", "old", 10);
  auto round = t.on_registry({record("b", "new")}, 1000);
  CHECK(round.departed == std::vector<std::string>{"b"});
  CHECK(names(round.connect) == std::vector<std::string>{"b"});
  CHECK(t.peers().at("b").record.incarnation == "new");
  // The old incarnation's link going down, or answering, is not the new one's.
  t.on_connected("b", "old", 1100);
  t.on_status("b", status_of("b", "old"), 1100);
  CHECK(t.peers().at("b").state == link_state::connecting);
  CHECK_FALSE(t.peers().at("b").status);
  t.on_connected("b", "new", 1200);
  t.on_down("b", "old", "gone", 1300);
  CHECK(t.peers().at("b").state == link_state::up);
}

TEST_CASE("member table: a peer whose registration expired is dropped", "[unit][cluster]") {
  member_table t{"a"};
  t.on_registry({record("b"), record("c")}, 0);
  t.on_connected("b", "i1", 10);
  auto round = t.on_registry({record("c")}, 6000);
  CHECK(round.departed == std::vector<std::string>{"b"});
  CHECK(t.peers().count("b") == 0);
  CHECK(t.live_members() == 1);
}

TEST_CASE("member records: only well-formed records are read back", "[unit][cluster]") {
  auto good = record("node-b");
  auto back = member_record_from_json(to_json(good).dump());
  REQUIRE(back);
  CHECK(back->node_name == "node-b");
  CHECK(back->cluster_port == 4000);
  CHECK(back->incarnation == "i1");
  for (const char* bad : {"", "[]", "{}", "not json",
                          R"({"node_name":"b","host":"h","cluster_port":0,"http_address":"h:1","started_at_ms":1,"incarnation":"x"})",
                          R"({"node_name":"b","host":"h","cluster_port":70000,"http_address":"h:1","started_at_ms":1,"incarnation":"x"})",
                          R"({"node_name":"","host":"h","cluster_port":1,"http_address":"h:1","started_at_ms":1,"incarnation":"x"})",
                          R"({"node_name":"b","host":"h","cluster_port":"1","http_address":"h:1","started_at_ms":1,"incarnation":"x"})",
                          R"({"node_name":"b","host":"h","cluster_port":1,"http_address":"h:1","started_at_ms":1})"})
    CHECK_FALSE(member_record_from_json(bad));
  CHECK(new_incarnation().size() == 32);
  CHECK(new_incarnation() != new_incarnation());
}

TEST_CASE("cluster view: every member with its link, its status and the status's age", "[unit][cluster]") {
  member_table t{"a"};
  t.on_registry({record("b"), record("c")}, 0);
  t.on_connected("b", "i1", 10);
  t.on_status("b", status_of("b"), 900);
  t.on_connect_failed("c", "i1", "connection refused", false, 20);
  cluster_view v;
  v.self = record("a");
  v.self_status = status_of("a");
  for (const auto& [name, link] : t.peers())
    v.peers.push_back(link);
  v.live_members = t.live_members();
  v.registered_members = 3;
  auto j = to_json(v, 1000);
  CHECK(j["enabled"] == true);
  CHECK(j["live_members"] == 2);
  REQUIRE(j["members"].size() == 3);
  CHECK(j["members"][0]["link"] == "self");
  CHECK(j["members"][0]["partitions"] == nlohmann::json({1, 3}));
  CHECK(j["members"][1]["node_name"] == "b");
  CHECK(j["members"][1]["link"] == "up");
  CHECK(j["members"][1]["status_age_ms"] == 100);
  CHECK(j["members"][1]["model_version"] == 2);
  CHECK(j["members"][2]["link"] == "down");
  CHECK(j["members"][2]["reason"] == "connection refused");
  CHECK_FALSE(j["members"][2].contains("partitions"));
}

TEST_CASE("partition owners: one reader each, from this node and its linked peers only", "[unit][cluster]") {
  node_status self = status_of("a");
  self.partitions = {0, 1};
  self.topic_partitions = 6;
  member_table t{"a"};
  t.on_registry({record("b"), record("c"), record("d")}, 0);
  t.on_connected("b", "i1", 1);
  t.on_connected("c", "i1", 1);
  auto b = status_of("b");
  b.partitions = {2, 3};
  auto c = status_of("c");
  c.partitions = {1, 4};  // 1 not let go by a yet, or taken early: nobody owns it
  t.on_status("b", b, 2);
  t.on_status("c", c, 2);
  // d never linked: whatever it reads is not routed to it.
  std::vector<peer_link> peers;
  for (const auto& [name, link] : t.peers())
    peers.push_back(link);
  auto owners = partition_owners(self, peers);
  CHECK(owners.topic_partitions == 6);
  CHECK(owners.owner == std::map<std::int32_t, std::string>{{0, "a"}, {2, "b"}, {3, "b"}, {4, "c"}});
}

TEST_CASE("a /predict split: by the owner of each user's partition, or refused whole", "[unit][cluster]") {
  partition_map owners;
  owners.topic_partitions = 4;
  owners.owner = {{0, "a"}, {1, "b"}, {2, "a"}};
  // A stand-in partitioner: the user's number modulo the partitions.
  auto partition_of = [](const std::string& user, std::int32_t n) { return std::stoi(user.substr(1)) % n; };
  auto split = split_by_owner({"u0", "u1", "u2", "u5", "u4"}, owners, partition_of);
  CHECK(split.error.empty());
  CHECK(split.by_node == std::map<std::string, std::vector<std::size_t>>{{"a", {0, 2, 4}}, {"b", {1, 3}}});
  auto orphan = split_by_owner({"u0", "u3"}, owners, partition_of);
  CHECK(orphan.by_node.empty());
  CHECK(orphan.error.find("partition 3 (user u3) has no owner") == 0);
  owners.topic_partitions = 0;
  CHECK(split_by_owner({"u0"}, owners, partition_of).error.find("not known yet") != std::string::npos);
}
