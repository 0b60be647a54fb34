// The real node over real HTTP on loopback.

#include "actors/node/vigil_node.h"
#include "pipeline/features/store_snapshot.h"
#include "support/http_client.h"
#include "support/running_node.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

using namespace vigil;
using json = nlohmann::json;

namespace {

const std::string token = "test-token-123";

struct node_fixture : testing::running_node {
  explicit node_fixture(double rate = 0, std::int64_t count = 2'000)
    : running_node("http", count, token, [rate](config::runtime_config& c) {
        c.simulator_rate = rate;
        c.body_limit_bytes = 64 * 1024;
      }) {}
};

json tx(const std::string& id, const std::string& user, double amount) {
  return {{"transaction_id", id}, {"user_id", user}, {"amount", amount}, {"currency", "EUR"},
          {"merchant", {{"id", "m-http"}, {"category", "electronics"}}},
          {"timestamp", "2024-02-01T12:00:00Z"},
          {"location", {{"country", "DE"}, {"lat", 52.5}, {"lon", 13.4}}},
          {"device_id", "d-http"}, {"channel", "online"}};
}

} // namespace

TEST_CASE("POST /predict over HTTP returns a full decision", "[integration][http]") {
  node_fixture f;
  // The scored vector only when asked for; its id always.
  auto lean = testing::http_call(f.port, "POST", "/predict", tx("h-1", "u-http", 120).dump());
  REQUIRE(lean.status == 200);
  CHECK_FALSE(json::parse(lean.body).contains("features"));
  CHECK(testing::http_call(f.port, "POST", "/predict?features=yes", tx("h-1", "u-http", 120).dump()).status == 400);
  auto r = testing::http_call(f.port, "POST", "/predict?features=true", tx("h-1", "u-http", 120).dump());
  REQUIRE(r.status == 200);
  auto d = json::parse(r.body);
  CHECK(d["feature_snapshot_id"] == json::parse(lean.body)["feature_snapshot_id"]);
  CHECK(d["transaction_id"] == "h-1");
  CHECK(d["probability"].get<double>() >= 0);
  CHECK(d["probability"].get<double>() <= 1);
  CHECK(d["model_version"].get<int>() >= 1);
  CHECK(d["features"]["amount"] == 120.0);
  CHECK(d["reasons"].is_array());
  CHECK(d["latency_us"].get<long>() > 0);
  std::string decision = d["decision"];
  CHECK((decision == "approve" || decision == "review" || decision == "decline"));
}

TEST_CASE("/predict reads stream state and updates it only when asked", "[integration][http]") {
  node_fixture f;
  auto count_of = [&](const std::string& query) {
    auto r = testing::http_call(f.port, "POST", "/predict" + query, tx("h-2", "u-state", 50).dump(), token);
    REQUIRE(r.status == 200);
    return json::parse(r.body)["features"]["user_count_24h"].get<double>();
  };
  CHECK(count_of("?features=true") == 0);
  CHECK(count_of("?features=true") == 0);  // a pure read changes nothing
  // Folding into state changes it: without the token, refused, and nothing changes.
  CHECK(testing::http_call(f.port, "POST", "/predict?update=true", tx("h-2", "u-state", 50).dump()).status == 401);
  CHECK(testing::http_call(f.port, "POST", "/predict?update=true", tx("h-2", "u-state", 50).dump(), "wrong-token")
          .status == 403);
  CHECK(count_of("?features=true") == 0);
  CHECK(count_of("?update=true&features=true") == 0);
  CHECK(count_of("?features=true") == 1);  // the update is visible to the next call
}

TEST_CASE("feedback is stored durably and unknown ids are reported", "[integration][http]") {
  node_fixture f;
  testing::http_call(f.port, "POST", "/predict?update=true", tx("h-3", "u-fb", 75).dump(), token);
  json labels = json::array({{{"transaction_id", "h-3"}, {"is_fraud", true}, {"source", "chargeback"}},
                             {{"transaction_id", "never-seen"}, {"is_fraud", false}}});
  auto r = testing::http_call(f.port, "POST", "/feedback", labels.dump(), token);
  REQUIRE(r.status == 200);
  auto body = json::parse(r.body);
  CHECK(body["accepted"] == 2);
  CHECK(body["joined"] == 1);
  CHECK(body["unknown_transaction_ids"] == json::array({"never-seen"}));
  std::ifstream in(f.dir / "labels.jsonl");
  std::string first;
  std::getline(in, first);
  CHECK(json::parse(first)["transaction_id"] == "h-3");
  CHECK(testing::http_call(f.port, "POST", "/feedback", labels.dump()).status == 401);
}

TEST_CASE("a retried /feedback is kept once: merchant state counts the label once", "[integration][http]") {
  node_fixture f;
  auto merchant_labelled = [&](const std::string& id) {
    auto r = testing::http_call(f.port, "POST", "/predict?features=true", tx(id, "u-retry-2", 30).dump());
    REQUIRE(r.status == 200);
    return json::parse(r.body)["features"]["merchant_labelled_30d"].get<double>();
  };
  const double before = merchant_labelled("h-r0");
  REQUIRE(testing::http_call(f.port, "POST", "/predict?update=true", tx("h-r1", "u-retry", 80).dump(), token).status ==
          200);
  json label = json::array({{{"transaction_id", "h-r1"}, {"is_fraud", true}}});
  for (int i = 0; i < 3; ++i) {  // a client retrying after a timeout
    auto r = testing::http_call(f.port, "POST", "/feedback", label.dump(), token);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["joined"] == 1);
  }
  double after = before;
  for (int i = 0; i < 500 && after == before; ++i) {  // the label reaches the merchant shard (10 s at most)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = merchant_labelled("h-r2");
  }
  CHECK(after == before + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(merchant_labelled("h-r3") == before + 1);  // and no more
  // The user's own risk counts it once too.
  auto user_frauds = [&] {
    auto r = testing::http_call(f.port, "POST", "/predict?features=true", tx("h-r4", "u-retry", 30).dump());
    return json::parse(r.body)["features"]["user_frauds_30d"].get<double>();
  };
  CHECK(user_frauds() == 1);
  auto metrics = testing::http_call(f.port, "GET", "/metrics").body;
  CHECK(metrics.find("vigil_labels_repeated_total") != std::string::npos);
}

TEST_CASE("config over HTTP: validated, versioned, rolled back, applied live", "[integration][http]") {
  node_fixture f;
  auto refused = testing::http_call(f.port, "PATCH", "/config", R"({"batch_size": -1, "bogus": 1})", token);
  CHECK(refused.status == 422);
  CHECK(json::parse(refused.body)["details"].size() == 2);
  auto cfg = json::parse(testing::http_call(f.port, "GET", "/config").body);
  CHECK(cfg["version"] == 1);
  CHECK(cfg["config"]["auth_token"] == "***");
  // A new user's small purchase under version 1 (the model's own thresholds).
  auto under_v1 = json::parse(testing::http_call(f.port, "POST", "/predict", tx("h-3", "u-cfg1", 10).dump()).body);
  REQUIRE(under_v1["probability"].get<double>() < 0.9);
  CHECK(under_v1["decision"] != "decline");
  auto applied = testing::http_call(f.port, "PATCH", "/config", R"({"review_threshold": 0.0, "decline_threshold": 0.0})", token);
  REQUIRE(applied.status == 200);
  CHECK(json::parse(applied.body)["version"] == 2);
  auto d = json::parse(testing::http_call(f.port, "POST", "/predict", tx("h-4", "u-cfg", 10).dump()).body);
  CHECK(d["decision"] == "decline");
  auto no_stage = testing::http_call(f.port, "PATCH", "/config", R"({"model_stage": "shadow"})", token);
  CHECK(no_stage.status == 422);  // no shadow model: refused, nothing changed
  CHECK(json::parse(no_stage.body)["details"][0]["field"] == "model_stage");
  auto back = testing::http_call(f.port, "POST", "/config/rollback/1", "", token);
  REQUIRE(back.status == 200);
  CHECK(json::parse(back.body)["version"] == 3);
  auto after = json::parse(testing::http_call(f.port, "POST", "/predict", tx("h-5", "u-cfg2", 10).dump()).body);
  CHECK(after["probability"] == under_v1["probability"]);  // the same purchase by another new user
  CHECK(after["decision"] == under_v1["decision"]);        // decided by version 1's thresholds again
  // A feature toggle applies live: the feature is scored as missing.
  REQUIRE(testing::http_call(f.port, "PATCH", "/config", R"({"disabled_features": ["amount"]})", token).status == 200);
  auto masked =
    json::parse(testing::http_call(f.port, "POST", "/predict?features=true", tx("h-6", "u-cfg3", 10).dump()).body);
  CHECK(masked["features"]["amount"].is_null());
}

TEST_CASE("the server survives oversize bodies and garbage bytes", "[integration][http]") {
  node_fixture f;
  std::string huge(100 * 1024, 'x');
  CHECK(testing::http_call(f.port, "POST", "/predict", huge).status == 413);
  auto garbage = testing::raw_exchange(f.port, "\x01\x02 NOT HTTP AT ALL\r\n\r\n");
  CHECK(garbage.find("400") != std::string::npos);
  CHECK(testing::http_call(f.port, "GET", "/health").status == 200);
  auto ready = testing::http_call(f.port, "GET", "/ready");
  CHECK(ready.status == 200);
  auto metrics = testing::http_call(f.port, "GET", "/metrics");
  CHECK(metrics.body.find("# TYPE vigil_decisions_total counter") != std::string::npos);
  CHECK(metrics.body.find("vigil_http_request_seconds_bucket") != std::string::npos);
  auto models = json::parse(testing::http_call(f.port, "GET", "/models").body);
  CHECK(models["models"].size() >= 1);
}

TEST_CASE("promoting a model over HTTP hot-swaps it", "[integration][http]") {
  node_fixture f;
  auto models = json::parse(testing::http_call(f.port, "GET", "/models").body);
  int version = models["models"][0]["version"];
  auto r = testing::http_call(f.port, "POST", "/models/" + std::to_string(version) + "/promote", "", token);
  CHECK(r.status == 200);
  CHECK(testing::http_call(f.port, "POST", "/models/999/promote", "", token).status == 404);
}

TEST_CASE("a node whose HTTP port is taken refuses to start and stops what it started", "[integration][http]") {
  node_fixture running;
  auto dir = testing::scratch_dir("http-port-taken");
  auto c = testing::embedded_config(dir, 0);  // an unbounded feed: actors that never stop by themselves
  c.http_port = running.port;
  {
    actors::vigil_node second{c, ""};
    CHECK_THROWS_WITH(second.start(), Catch::Contains("cannot listen"));
  }  // its destructor returns: every actor it spawned was stopped
  CHECK(testing::http_call(running.port, "GET", "/health").status == 200);
}

TEST_CASE("/ready answers from the model owner and the background probes", "[integration][http]") {
  node_fixture f;
  auto r = testing::http_call(f.port, "GET", "/ready");
  CHECK(r.status == 200);
  auto body = json::parse(r.body);
  CHECK(body["ready"] == true);
  CHECK(body["checks"]["model_loaded"] == true);
  CHECK_FALSE(body["checks"].contains("kafka"));  // embedded: nothing to probe
}

TEST_CASE("keys HTTP creates are bounded in memory and in the checkpoint file", "[integration][http][security]") {
  auto dir = testing::scratch_dir("http-keys");
  auto c = testing::embedded_config(dir, 200);
  c.auth_token = token;
  c.max_http_keys = 20;  // 10 per shard
  actors::vigil_node node{c, ""};
  node.start();
  REQUIRE(node.wait_drained(std::chrono::seconds(60)));
  // Two rounds of new ids with a checkpoint after each: the first round's
  // keys are stored, then pushed out by the second, and must leave the file.
  for (int round = 0; round < 2; ++round) {
    json batch = json::array();
    for (int i = round * 100; i < (round + 1) * 100; ++i) {
      auto t = tx("k-" + std::to_string(i), "attacker-" + std::to_string(i), 10);
      t["merchant"]["id"] = "attacker-m-" + std::to_string(i);
      batch.push_back(t);
    }
    REQUIRE(testing::http_call(node.http_port(), "POST", "/predict?update=true", batch.dump(), token).status == 200);
    REQUIRE(node.checkpoint(std::chrono::seconds(30)));
  }
  node.stop();
  std::ifstream in(dir / "state.snapshot", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto stored = pipeline::decode_snapshot(bytes);
  REQUIRE(stored);
  std::size_t attackers = 0, attacker_merchants = 0;
  for (const auto& [id, state] : stored->users)
    attackers += id.rfind("attacker-", 0) == 0 ? 1 : 0;
  for (const auto& [id, state] : stored->merchants)
    attacker_merchants += id.rfind("attacker-m-", 0) == 0 ? 1 : 0;
  CHECK(attackers == 20);
  CHECK(attacker_merchants == 20);
}

TEST_CASE("rules decide beside the model on the stream and on /predict, changed live", "[integration][http][rules]") {
  // The stream: every simulated transaction over 900 is reviewed at least,
  // with the rule among its reasons; none under it carries the rule.
  testing::running_node node("rules", 3'000, token, [](config::runtime_config& c) {
    c.rules = {{"large", "tx.amount > 900", "review", 0, "large amount"}};
  });
  REQUIRE(node.node->wait_drained(std::chrono::seconds(120)));
  std::size_t lines = 0;
  auto decisions = testing::read_decisions(node.dir / "decisions.jsonl", &lines);
  REQUIRE(decisions.size() == 3'000);
  auto hit = [](const json& d, const std::string& rule) {
    for (const auto& r : d["reasons"])
      if (r.value("rule", "") == rule)
        return true;
    return false;
  };
  std::size_t large = 0;
  for (const auto& [id, d] : decisions) {
    const bool over = d["features"]["amount"].get<double>() > 900;
    CHECK(hit(d, "large") == over);
    if (over) {
      ++large;
      CHECK(d["decision"] != "approve");
    }
  }
  CHECK(large > 0);

  // /predict, after a live change: a deny list, an allow list that loses to
  // it, and an adjustment.
  auto change = json::parse(R"({"rules": [
      {"id": "deny", "when": "tx.user_id in ['u-denied']", "action": "decline", "description": "chargebacks"},
      {"id": "trusted", "when": "tx.user_id in ['u-denied', 'u-trusted']", "action": "allow"},
      {"id": "nudge", "when": "tx.channel == 'online' and tx.amount == 77", "action": "adjust", "score_delta": 1}]})");
  auto refused = testing::http_call(node.port, "PATCH", "/config",
                                    R"({"rules": [{"id": "x", "when": "tx.amount >", "action": "review"}]})", token);
  REQUIRE(refused.status == 422);
  CHECK(json::parse(refused.body)["details"][0]["field"] == "rules[0].when");
  REQUIRE(testing::http_call(node.port, "PATCH", "/config", change.dump(), token).status == 200);
  auto denied = json::parse(testing::http_call(node.port, "POST", "/predict", tx("r-1", "u-denied", 10).dump()).body);
  CHECK(denied["decision"] == "decline");
  CHECK(hit(denied, "deny"));
  CHECK(hit(denied, "trusted"));
  auto trusted = json::parse(testing::http_call(node.port, "POST", "/predict", tx("r-2", "u-trusted", 10).dump()).body);
  CHECK(trusted["decision"] == "approve");
  CHECK(hit(trusted, "trusted"));
  CHECK_FALSE(hit(trusted, "deny"));
  auto nudged = json::parse(testing::http_call(node.port, "POST", "/predict", tx("r-3", "u-other", 77).dump()).body);
  CHECK(nudged["decision"] == "decline");  // probability + 1 clears every threshold
  CHECK(nudged["rule_adjustment"] == 1.0);
  CHECK(nudged["probability"].get<double>() < 0.9);  // the model's own score is kept
  auto plain = json::parse(testing::http_call(node.port, "POST", "/predict", tx("r-4", "u-other", 12).dump()).body);
  for (const auto& r : plain["reasons"])
    CHECK_FALSE(r.contains("rule"));
}
