// Merchant state shared by a cluster, against a real Redis and Kafka: each
// merchant's state lives on one node, whatever partition its records come
// from, and every record counts once in it, through a node frozen past its
// lease, a node killed with -9, and a node cut off from the others by the
// network.

#include "actors/node/vigil_node.h"
#include "config/runtime_config.h"
#include "pipeline/connectors/merchant_shard_store.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "support/fault_proxy.h"
#include "support/http_client.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <regex>
#include <set>
#include <thread>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil;
using namespace vigil::testing;
using json = nlohmann::json;

namespace {

const std::string token = "merchant-cluster-token";
/// Long enough that no record is late in any interleaving of partitions:
/// then which records a merchant holds does not depend on arrival order.
constexpr std::int64_t no_lateness_ms = 400LL * 86'400'000;

config::runtime_config member_config(const std::string& topic, const std::string& group, const std::string& name) {
  auto c = in_process_node_config(topic, name);
  c.consumer_group = group;
  c.auth_token = token;
  c.auth_token_path = (scratch_dir("merchant-cluster-" + name) / "token").string();
  c.readback_decisions = 0;
  c.allowed_lateness_ms = no_lateness_ms;
  c.snapshot_interval_ms = 300;
  return c;
}

std::map<std::string, std::uint64_t> records_per_merchant(const std::vector<pipeline::transaction>& txs) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& tx : txs)
    ++out[tx.merchant_id];
  return out;
}

// Merchants whose stored state does not hold exactly their records.
std::size_t miscounted(const pipeline::merchant_map& stored, const std::map<std::string, std::uint64_t>& expected) {
  std::size_t wrong = stored.size() == expected.size() ? 0 : 1;
  for (const auto& [id, n] : expected) {
    auto it = stored.find(id);
    if (it == stored.end() || it->second.records + it->second.late_records != n) {
      UNSCOPED_INFO(id << ": " << (it == stored.end() ? 0 : it->second.records) << " of " << n);
      ++wrong;
    }
  }
  return wrong;
}

// The node on `port` sees `n` members linked (itself included), holding the
// 64 merchant shards between them, each once.
bool shards_settled(unsigned short port, std::size_t n) {
  auto r = http_call(port, "GET", "/cluster", "", token);
  if (r.status != 200)
    return false;
  auto view = json::parse(r.body);
  if (view["live_members"] != n)
    return false;
  std::multiset<int> held;
  for (const auto& m : view["members"])
    if (m["link"] == "self" || m["link"] == "up")  // a member down keeps its last status
      for (const auto& s : m.value("merchant_shards", json::array()))
      held.insert(s.get<int>());
  return held.size() == 64 && std::set<int>(held.begin(), held.end()).size() == 64;
}

// A loopback port free now (for a node whose cluster port a proxy forwards to).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// How the node on `port` sees its link to `name` ("absent" when not listed).
std::string link_to(unsigned short port, const std::string& name) {
  auto r = http_call(port, "GET", "/cluster", "", token);
  if (r.status != 200)
    return "no answer";
  const auto view = json::parse(r.body);
  for (const auto& m : view["members"])
    if (m["node_name"] == name)
      return m["link"].get<std::string>();
  return "absent";
}

bool wait_until(const std::function<bool()>& ok, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ok()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

} // namespace

TEST_CASE("cluster: merchant state on three nodes equals a one-node run of the same topic",
          "[integration][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("merchant-cluster");
  create_topic(svc.kafka, topic, 4);
  auto txs = simulated(topic + "/", 6'000, 91);
  produce(svc.kafka, topic, as_records(txs));

  // One node outside any cluster: merchants in its own checkpoint.
  {
    auto c = member_config(topic, topic + "-single", "single");
    c.cluster_port = -1;
    actors::vigil_node single{c, ""};
    single.start();
    REQUIRE(predictions(topic + "/", txs.size(), std::chrono::seconds(120)).size() == txs.size());
    REQUIRE(single.checkpoint(std::chrono::seconds(60)));
    single.stop();
  }
  auto single = stored_checkpoint(topic + "-single", topic, "single", 4).merchants;

  // Three clustered nodes in another group over the same topic.
  const auto group = topic + "-three";
  std::vector<std::unique_ptr<actors::vigil_node>> nodes;
  for (const char* name : {"a", "b", "c"}) {
    nodes.push_back(std::make_unique<actors::vigil_node>(member_config(topic, group, name), ""));
    nodes.back()->start();
  }
  CHECK(wait_until([&] { return shards_settled(nodes[0]->http_port(), 3); }, std::chrono::seconds(120)));
  // Scored across the group: the second group's copies carry the same ids,
  // so wait for its checkpoints to cover the topic instead.
  CHECK(wait_for_checkpoint(group, topic, "a", 4, static_cast<std::int64_t>(txs.size()),
                            std::chrono::seconds(180)));
  auto metrics = http_call(nodes[0]->http_port(), "GET", "/metrics").body;
  CHECK(metrics.find("vigil_merchant_shards_held") != std::string::npos);
  for (auto& node : nodes)
    node->stop();  // each checkpoints and lets its shards go
  auto three = connectors::load_all_merchant_shards(svc.redis, connectors::checkpoint_prefix(group, topic),
                                                    no_lateness_ms);

  // Counts and sums do not depend on the order partitions interleave in.
  auto expected = records_per_merchant(txs);
  CHECK(miscounted(single, expected) == 0);
  CHECK(miscounted(three, expected) == 0);
  REQUIRE(three.size() == single.size());
  std::int64_t end = 0;
  for (const auto& tx : txs)
    end = std::max(end, tx.event_time_ms);
  std::size_t differing = 0;
  for (const auto& [id, one] : single) {
    const auto& other = three.at(id);
    auto a = one.amounts_7d.totals(end), b = other.amounts_7d.totals(end);
    auto a24 = one.amounts_24h.totals(end), b24 = other.amounts_24h.totals(end);
    bool same = a.count == b.count && std::abs(a.sum - b.sum) < 1e-6 * std::max(1.0, std::abs(a.sum)) &&
                a24.count == b24.count && one.max_event_time_ms == other.max_event_time_ms;
    differing += same ? 0 : 1;
  }
  CHECK(differing == 0);
}

TEST_CASE("cluster: merchant counts stay exact through a member frozen past its lease and one killed with -9",
          "[chaos][cluster][kafka]") {
  const auto& svc = services();
  auto topic = unique("merchant-chaos");
  create_topic(svc.kafka, topic, 4);
  auto txs = simulated(topic + "/", 16'000, 93);
  auto part = [&](std::size_t from, std::size_t to) {
    return as_records(std::vector<pipeline::transaction>(txs.begin() + from, txs.begin() + to));
  };
  auto a = std::make_unique<actors::vigil_node>(member_config(topic, topic, "a"), "");
  a->start();
  auto b = std::make_unique<actors::vigil_node>(member_config(topic, topic, "b"), "");
  b->start();
  auto dir = scratch_dir("merchant-chaos");
  auto victim = spawn_vigil(run_args("input_topic=" + topic + ",consumer_group=" + topic +
                                     ",node_name=victim,readback_decisions=0,snapshot_interval_ms=300" +
                                     ",allowed_lateness_ms=" + std::to_string(no_lateness_ms) +
                                     ",auth_token=" + token + ",auth_token_path=" + (dir / "token").string() +
                                     ",labels_path=" + (dir / "labels.jsonl").string()),
                            (dir / "victim.log").string());
  REQUIRE(wait_until([&] { return shards_settled(a->http_port(), 3); }, std::chrono::seconds(120)));

  produce(svc.kafka, topic, part(0, 6'000));
  predictions(topic + "/", 3'000, std::chrono::seconds(120));
  // Frozen past its merchant leases (5 s) and its group session: the others
  // take its shards from Redis; thawed, it finds them gone and writes none.
  ::kill(victim, SIGSTOP);
  CHECK(wait_until([&] { return shards_settled(a->http_port(), 2); }, std::chrono::seconds(60)));
  produce(svc.kafka, topic, part(6'000, 10'000));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::kill(victim, SIGCONT);
  CHECK(wait_until([&] { return shards_settled(a->http_port(), 3); }, std::chrono::seconds(90)));

  produce(svc.kafka, topic, part(10'000, 16'000));
  predictions(topic + "/", 12'000, std::chrono::seconds(120));
  ::kill(victim, SIGKILL);  // mid-stream, its shards' logs not checkpointed
  ::waitpid(victim, nullptr, 0);
  CHECK(wait_until([&] { return shards_settled(a->http_port(), 2); }, std::chrono::seconds(60)));

  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(180));
  CHECK(got.size() == txs.size());  // every transaction scored
  CHECK(wait_for_checkpoint(topic, topic, "a", 4, static_cast<std::int64_t>(txs.size()), std::chrono::seconds(120)));
  auto skipped = http_call(a->http_port(), "GET", "/metrics").body;
  a->stop();
  b->stop();

  auto merchants = connectors::load_all_merchant_shards(svc.redis, connectors::checkpoint_prefix(topic, topic),
                                                        no_lateness_ms);
  CHECK(miscounted(merchants, records_per_merchant(txs)) == 0);
  // Users too: each partition's users moved with its checkpoint.
  auto snap = stored_checkpoint(topic, topic, "a", 4);
  auto replay = replay_topic(topic, txs.size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
  // Replays reached the merchant shards, and were read, not applied.
  std::smatch m;
  REQUIRE(std::regex_search(skipped, m, std::regex("vigil_merchant_replays_skipped_total ([0-9.e+]+)")));
  WARN("records replayed to merchant shards, not applied again (node a): " << m[1]);
}

TEST_CASE("cluster: a member cut off from the others by the network, then healed, loses and doubles nothing",
          "[chaos][cluster][kafka]") {
  // Every node's cluster port is dialled through a fault proxy of its own;
  // c is cut off by black-holing its proxy and, on the others' proxies, the
  // connections c opened (those accepted after c started). a and b stay
  // linked; every node keeps its broker and Redis.
  const auto& svc = services();
  auto topic = unique("merchant-partition");
  create_topic(svc.kafka, topic, 4);
  auto txs = simulated(topic + "/", 12'000, 97);
  auto part = [&](std::size_t from, std::size_t to) {
    return as_records(std::vector<pipeline::transaction>(txs.begin() + from, txs.begin() + to));
  };
  std::map<std::string, std::unique_ptr<fault_proxy>> proxies;
  std::map<std::string, std::unique_ptr<actors::vigil_node>> nodes;
  auto start = [&](const std::string& name) {
    const int port = free_port();
    proxies[name] = std::make_unique<fault_proxy>(port);
    auto c = member_config(topic, topic, name);
    c.cluster_port = port;
    c.cluster_advertise_port = proxies[name]->port();
    nodes[name] = std::make_unique<actors::vigil_node>(c, "");
    nodes[name]->start();
  };
  start("a");
  start("b");
  REQUIRE(wait_until([&] { return shards_settled(nodes["a"]->http_port(), 2); }, std::chrono::seconds(120)));
  const auto a_before_c = proxies["a"]->connections(), b_before_c = proxies["b"]->connections();
  start("c");
  REQUIRE(wait_until([&] { return shards_settled(nodes["a"]->http_port(), 3); }, std::chrono::seconds(120)));
  const auto a_port = nodes["a"]->http_port(), c_port = nodes["c"]->http_port();

  produce(svc.kafka, topic, part(0, 4'000));
  predictions(topic + "/", 2'000, std::chrono::seconds(120));
  proxies["c"]->set_black_hole(true);
  proxies["a"]->set_black_hole_from(a_before_c);
  proxies["b"]->set_black_hole_from(b_before_c);
  // Both sides see the cut within seconds; a and b stay linked.
  INFO("connections through a's, b's, c's proxies before c started: " << a_before_c << ", " << b_before_c
       << "; after: " << proxies["a"]->connections() << ", " << proxies["b"]->connections() << ", "
       << proxies["c"]->connections());
  auto links = [&] {
    return "a->b " + link_to(a_port, "b") + ", a->c " + link_to(a_port, "c") + ", c->a " + link_to(c_port, "a") +
           ", c->b " + link_to(c_port, "b");
  };
  CHECK(wait_until(
    [&] {
      return link_to(a_port, "c") != "up" && link_to(c_port, "a") != "up" && link_to(c_port, "b") != "up" &&
             link_to(a_port, "b") == "up";
    },
    std::chrono::seconds(30)));
  INFO(links());
  CHECK(links() == "a->b up, a->c down, c->a down, c->b down");
  produce(svc.kafka, topic, part(4'000, 8'000));
  std::this_thread::sleep_for(std::chrono::seconds(10));
  for (const auto& [name, node] : nodes) {  // cut off or not, every node stays up
    INFO(name);
    CHECK(http_call(node->http_port(), "GET", "/health").status == 200);
  }
  for (auto& [name, proxy] : proxies)
    proxy->set_black_hole(false);
  CHECK(wait_until([&] { return shards_settled(a_port, 3) && shards_settled(c_port, 3); },
                   std::chrono::seconds(120)));

  produce(svc.kafka, topic, part(8'000, 12'000));
  auto got = predictions(topic + "/", txs.size(), std::chrono::seconds(180));
  CHECK(got.size() == txs.size());  // every transaction scored
  CHECK(wait_for_checkpoint(topic, topic, "a", 4, static_cast<std::int64_t>(txs.size()), std::chrono::seconds(120)));
  for (auto& [name, node] : nodes)
    node->stop();

  auto merchants = connectors::load_all_merchant_shards(svc.redis, connectors::checkpoint_prefix(topic, topic),
                                                        no_lateness_ms);
  CHECK(miscounted(merchants, records_per_merchant(txs)) == 0);
  auto snap = stored_checkpoint(topic, topic, "a", 4);
  auto replay = replay_topic(topic, txs.size());
  CHECK(equal_states(snap.users, replay.users()) == replay.users().size());
}
