// What an attacker or a careless client sends to the router: strict JSON,
// unknown fields, wrong media types, and the methods and views around them.
#include "tests/http/fake_node.h"

#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>

#include <chrono>

using namespace vigil;
using namespace vigil::http;
using namespace vigil::http::testing;

namespace {

json with(const char* field, json value) {
  auto j = json::parse(valid_tx);
  j[field] = std::move(value);
  return j;
}

std::string first_field(const http_response& r) { return body_of(r)["details"][0]["field"]; }

} // namespace

TEST_CASE("a duplicate key is refused and named, at any depth", "[unit][http]") {
  fake_node node;
  // The lenient parser kept the last one: amount 1 then 99999999 scored 1e8.
  std::string twice = R"({"transaction_id":"t1","user_id":"u1","amount":1,"amount":99999999,"currency":"EUR",
    "merchant":{"id":"m1","category":"grocery"},"timestamp":"2024-03-01T10:00:00Z","location":{"country":"DE"}})";
  auto r = route(req("POST", "/predict", twice), node);
  CHECK(r.status == 422);
  CHECK(first_field(r) == "amount");
  CHECK(body_of(r)["details"][0]["reason"] == "duplicate key");
  CHECK(node.predicted.empty());

  std::string nested = std::string("[") + valid_tx + R"(,{"merchant":{"id":"a","id":"b"}}])";
  CHECK(first_field(route(req("POST", "/predict", nested), node)) == "[1].merchant.id");
  auto label = route(req("POST", "/feedback", R"({"transaction_id":"a","is_fraud":false,"is_fraud":true})",
                         "Bearer secret-token"), node);
  CHECK(label.status == 422);
  CHECK(first_field(label) == "is_fraud");
  CHECK(node.labels.empty());
}

TEST_CASE("nesting is bounded", "[unit][http]") {
  fake_node node;
  std::string deep(200, '[');
  auto r = route(req("POST", "/predict", deep + std::string(200, ']')), node);
  CHECK(r.status == 422);
  CHECK(body_of(r)["details"][0]["reason"].get<std::string>().find("nested deeper than") == 0);
}

TEST_CASE("/predict refuses fields a transaction does not have, naming each", "[unit][http]") {
  fake_node node;
  auto typo = route(req("POST", "/predict", with("ammount", 5).dump()), node);
  CHECK(typo.status == 422);
  CHECK(first_field(typo) == "ammount");
  CHECK(body_of(typo)["details"][0]["reason"] == "unknown field");
  // A label belongs on /feedback; on /predict it would be ignored silently.
  CHECK(first_field(route(req("POST", "/predict", with("label", {{"is_fraud", true}}).dump()), node)) == "label");
  auto nested = json::parse(valid_tx);
  nested["location"]["city"] = "Berlin";
  CHECK(first_field(route(req("POST", "/predict", nested.dump()), node)) == "location.city");
  CHECK(first_field(route(req("POST", "/feedback", R"({"transaction_id":"a","is_fraud":true,"fraud":1})",
                              "Bearer secret-token"), node)) == "fraud");
  CHECK(node.predicted.empty());
}

TEST_CASE("ids with control characters, negative zero and impossible times are refused", "[unit][http]") {
  fake_node node;
  auto field_of = [&](const json& body) { return first_field(route(req("POST", "/predict", body.dump()), node)); };
  CHECK(field_of(with("user_id", std::string("u\0x", 3))) == "user_id");
  CHECK(field_of(with("transaction_id", "t\n1")) == "transaction_id");
  CHECK(field_of(with("amount", -0.0)) == "amount");
  CHECK(field_of(with("timestamp", "2023-02-29T10:00:00Z")) == "timestamp");  // not a leap year
  CHECK(field_of(with("timestamp", "9999-12-31T23:59:60Z")) == "timestamp");  // leap second
  CHECK(field_of(with("timestamp", "9999-12-31T23:30:00-01:00")) == "timestamp");  // year 10000 in UTC
  CHECK(field_of(with("timestamp", "0000-01-01T00:30:00+01:00")) == "timestamp");  // year -1 in UTC
  CHECK(node.predicted.empty());
  CHECK(route(req("POST", "/predict", with("timestamp", "2024-02-29T10:00:00Z").dump()), node).status == 200);
}

TEST_CASE("a body must be declared application/json", "[unit][http]") {
  fake_node node;
  auto form = req("POST", "/predict", valid_tx);
  form.content_type = "application/x-www-form-urlencoded";
  auto r = route(form, node);
  CHECK(r.status == 415);
  CHECK(body_of(r)["code"] == "unsupported_media_type");
  form.content_type = "";
  CHECK(route(form, node).status == 415);
  form.content_type = "Application/JSON; charset=utf-8";
  CHECK(route(form, node).status == 200);
}

TEST_CASE("probes answer HEAD, and PUT /config points to PATCH", "[unit][http]") {
  fake_node node;
  auto head = route(req("HEAD", "/health"), node);
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(route(req("HEAD", "/ready"), node).status == 503);  // the fake node is not ready
  auto put = route(req("PUT", "/config", R"({"decline_threshold": 0.8})", "Bearer secret-token"), node);
  CHECK(put.status == 405);
  CHECK(body_of(put)["error"].get<std::string>().find("PATCH /config") != std::string::npos);
  CHECK(node.last_patch.is_null());
}

TEST_CASE("GET /config hides file paths and hosts unless the token is given", "[unit][http]") {
  fake_node node;
  auto anonymous = body_of(route(req("GET", "/config"), node));
  CHECK(anonymous["config"]["snapshot_path"] == "(redacted)");
  CHECK(anonymous["config"]["replay_path"] == "(redacted)");
  CHECK(anonymous["config"]["batch_size"] == 256);
  CHECK(anonymous["redacted"] == true);
  auto owner = body_of(route(req("GET", "/config", "", "Bearer secret-token"), node));
  CHECK(owner["config"]["snapshot_path"] == "/var/lib/vigil/state");
  CHECK(route(req("GET", "/config", "", "Bearer wrong"), node).status == 403);
}

TEST_CASE("an event time ahead of the clock cannot enter state or be scored", "[unit][http][security]") {
  fake_node node;  // allows 300 s of skew
  auto stamp = [](std::int64_t ahead_ms) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
    return pipeline::format_iso8601_ms(now + ahead_ms);
  };
  for (const char* target : {"/predict", "/predict?update=true"}) {
    INFO(target);
    auto poisoned = route(req("POST", target, with("timestamp", "9999-12-31T23:59:59Z").dump(), "Bearer secret-token"), node);
    CHECK(poisoned.status == 422);
    CHECK(first_field(poisoned) == "timestamp");
    CHECK(body_of(poisoned)["details"][0]["reason"].get<std::string>().find("s ahead of") != std::string::npos);
    CHECK(route(req("POST", target, with("timestamp", stamp(3'600'000)).dump(), "Bearer secret-token"), node).status == 422);
  }
  CHECK(node.predicted.empty());
  CHECK(route(req("POST", "/predict?update=true", with("timestamp", stamp(60'000)).dump(), "Bearer secret-token"), node)
          .status == 200);
  auto label = json{{"transaction_id", "t1"}, {"is_fraud", true}, {"label_time", stamp(86'400'000)}};
  auto refused = route(req("POST", "/feedback", label.dump(), "Bearer secret-token"), node);
  CHECK(refused.status == 422);
  CHECK(first_field(refused) == "label_time");
  CHECK(node.labels.empty());
}
