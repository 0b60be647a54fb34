#include "tests/http/fake_node.h"

#include <catch2/catch.hpp>

using namespace vigil;
using namespace vigil::http;
using json = nlohmann::json;
using namespace vigil::http::testing;


TEST_CASE("POST /predict scores one object or an array", "[unit][http]") {
  fake_node node;
  auto one = route(req("POST", "/predict", valid_tx), node);
  CHECK(one.status == 200);
  CHECK(body_of(one)["transaction_id"] == "t1");
  CHECK_FALSE(node.last_update);
  auto many = route(req("POST", "/predict?update=true", std::string("[") + valid_tx + "," + valid_tx + "]",
                        "Bearer secret-token"), node);
  CHECK(many.status == 200);
  CHECK(body_of(many)["results"].size() == 2);
  CHECK(node.last_update);
  CHECK_FALSE(node.last_explain);
  CHECK(route(req("POST", "/predict?explain=true", valid_tx), node).status == 200);
  CHECK(node.last_explain);
}

TEST_CASE("bad /predict input gets a 4xx naming the problem", "[unit][http]") {
  fake_node node;
  SECTION("malformed JSON") {
    auto r = route(req("POST", "/predict", "{\"amount\": "), node);
    CHECK(r.status == 400);
    CHECK(body_of(r)["error"].get<std::string>().find("request body is not valid JSON") == 0);
  }
  SECTION("empty body") {
    CHECK(route(req("POST", "/predict"), node).status == 400);
  }
  SECTION("a bad field is named") {
    auto j = json::parse(valid_tx);
    j["amount"] = -4;
    auto r = route(req("POST", "/predict", j.dump()), node);
    CHECK(r.status == 422);
    CHECK(body_of(r)["details"][0]["field"] == "amount");
    CHECK(body_of(r)["details"][0]["reason"] == "must not be negative");
  }
  SECTION("a bad field in an array is named with its index") {
    auto bad = json::parse(valid_tx);
    bad.erase("currency");
    auto r = route(req("POST", "/predict", json::array({json::parse(valid_tx), bad}).dump()), node);
    CHECK(r.status == 422);
    CHECK(body_of(r)["details"][0]["field"] == "[1].currency");
    CHECK(node.predicted.empty());  // nothing scored when any item is bad
  }
  SECTION("an empty or oversized array") {
    CHECK(route(req("POST", "/predict", "[]"), node).status == 400);
    json big = json::array();
    for (std::size_t i = 0; i <= max_batch_items; ++i)
      big.push_back(json::parse(valid_tx));
    CHECK(route(req("POST", "/predict", big.dump()), node).status == 400);
  }
  SECTION("a bad query flag") {
    CHECK(route(req("POST", "/predict?update=yes", valid_tx), node).status == 400);
  }
}

TEST_CASE("mutating endpoints require the bearer token", "[unit][http]") {
  fake_node node;
  const std::string label = R"({"transaction_id":"t1","is_fraud":true})";
  CHECK(route(req("POST", "/feedback", label), node).status == 401);
  CHECK(route(req("POST", "/feedback", label, "Bearer wrong"), node).status == 403);
  CHECK(route(req("POST", "/feedback", label, "Basic secret-token"), node).status == 403);
  CHECK(route(req("PATCH", "/config", "{}"), node).status == 401);
  CHECK(route(req("POST", "/models/1/promote"), node).status == 401);
  CHECK(route(req("POST", "/retrain"), node).status == 401);
  auto ok = route(req("POST", "/feedback", label, "Bearer secret-token"), node);
  CHECK(ok.status == 200);
  REQUIRE(node.labels.size() == 1);
  CHECK(node.labels[0].is_fraud);
}

TEST_CASE("GET /cluster: members and links for anyone, where they listen only with the token",
          "[unit][http][cluster]") {
  fake_node node;
  auto alone = route(req("GET", "/cluster"), node);
  CHECK(alone.status == 200);
  CHECK(body_of(alone)["enabled"] == false);
  node.cluster_view = {{"enabled", true},
                       {"members", {{{"node_name", "a"}, {"host", "10.1.2.3"}, {"cluster_port", 4000},
                                     {"http_address", "10.1.2.3:8080"}, {"link", "self"}}}}};
  auto anonymous = body_of(route(req("GET", "/cluster"), node));
  CHECK(anonymous["redacted"] == true);
  CHECK(anonymous["members"][0]["node_name"] == "a");
  CHECK(anonymous["members"][0]["link"] == "self");
  for (const char* field : {"host", "cluster_port", "http_address"})
    CHECK(anonymous["members"][0][field] == "(redacted)");
  auto full = body_of(route(req("GET", "/cluster", "", "Bearer secret-token"), node));
  CHECK(full["members"][0]["host"] == "10.1.2.3");
  CHECK_FALSE(full.contains("redacted"));
  CHECK(route(req("GET", "/cluster", "", "Bearer wrong"), node).status == 403);
  CHECK(route(req("POST", "/cluster"), node).status == 405);
}

TEST_CASE("feedback validation names the bad field", "[unit][http]") {
  fake_node node;
  auto r = route(req("POST", "/feedback", R"([{"transaction_id":"a","is_fraud":"yes"}])",
                     "Bearer secret-token"), node);
  CHECK(r.status == 422);
  CHECK(body_of(r)["details"][0]["field"] == "[0].is_fraud");
  auto t = route(req("POST", "/feedback", R"({"transaction_id":"a","is_fraud":true,"label_time":"yesterday"})",
                     "Bearer secret-token"), node);
  CHECK(body_of(t)["details"][0]["field"] == "label_time");
}

TEST_CASE("a refused config change answers 422 with every reason", "[unit][http]") {
  fake_node node;
  auto r = route(req("PATCH", "/config", R"({"batch_size": 0})", "Bearer secret-token"), node);
  CHECK(r.status == 422);
  CHECK(body_of(r)["details"][0]["field"] == "batch_size");
  CHECK(route(req("PATCH", "/config", R"({"decline_threshold": 0.8})", "Bearer secret-token"), node).status == 200);
  CHECK(node.last_patch["decline_threshold"] == 0.8);
}

TEST_CASE("read-only endpoints, unknown routes and methods", "[unit][http]") {
  fake_node node;
  CHECK(route(req("GET", "/health"), node).status == 200);
  CHECK(route(req("GET", "/ready"), node).status == 503);
  auto metrics = route(req("GET", "/metrics"), node);
  CHECK(metrics.content_type.find("text/plain") == 0);
  CHECK(metrics.body == "vigil_records_in_total 3\n");
  CHECK(route(req("GET", "/nope"), node).status == 404);
  CHECK(route(req("DELETE", "/predict"), node).status == 405);
  CHECK(route(req("POST", "/models/abc/promote", "", "Bearer secret-token"), node).status == 400);
  CHECK(route(req("POST", "/models/9/promote", "", "Bearer secret-token"), node).status == 404);
  auto spec = json::parse(route(req("GET", "/openapi.json"), node).body);
  CHECK(spec["openapi"] == "3.0.3");
  CHECK(spec["paths"].contains("/predict"));
  CHECK(spec["paths"].contains("/feedback"));
  auto page = route(req("GET", "/"), node);
  CHECK(page.content_type.find("text/html") == 0);
  CHECK(page.body.find("<title>Vigil console</title>") != std::string::npos);
  // The page is whole: its style and script were put in at build time.
  CHECK(page.body.find("/*CONSOLE_CSS*/") == std::string::npos);
  CHECK(page.body.find("/*CONSOLE_JS*/") == std::string::npos);
  CHECK(page.body.find("function loadQueue") != std::string::npos);
  for (const char* path : {"/review", "/review/t1", "/metrics/history", "/backtest"})
    CHECK(spec["paths"].contains(path == std::string("/review/t1") ? "/review/{transaction_id}" : path));
}

TEST_CASE("versions in paths are plain positive integers, named by what they version", "[unit][http]") {
  fake_node node;
  for (const char* bad : {"+1", " 1", "1 ", "0", "-3", "01x", "99999999999"}) {
    INFO(bad);
    auto promote = route(req("POST", std::string("/models/") + bad + "/promote", "", "Bearer secret-token"), node);
    CHECK(promote.status == 400);
    CHECK(body_of(promote)["error"].get<std::string>().find("model version") == 0);
  }
  auto rollback = route(req("POST", "/config/rollback/x", "", "Bearer secret-token"), node);
  CHECK(rollback.status == 400);
  CHECK(body_of(rollback)["error"].get<std::string>().find("config version") == 0);
  CHECK(body_of(rollback)["code"] == "malformed_request");
  CHECK(route(req("POST", "/models/7/promote", "", "Bearer secret-token"), node).status == 200);
}

TEST_CASE("folding a transaction into state needs the token, scoring alone does not", "[unit][http]") {
  fake_node node;
  CHECK(route(req("POST", "/predict", valid_tx), node).status == 200);
  CHECK(route(req("POST", "/predict?update=true", valid_tx), node).status == 401);
  CHECK(route(req("POST", "/predict?update=true", valid_tx, "Bearer wrong"), node).status == 403);
  CHECK_FALSE(node.last_update);  // the refused ones never reached the node
  CHECK(route(req("POST", "/predict?update=true", valid_tx, "Bearer secret-token"), node).status == 200);
  CHECK(node.last_update);
}
