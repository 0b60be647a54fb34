// Shadow: a candidate model and rule set decide every transaction beside
// production, published apart, and never change a served decision, on the
// stream and on /predict.

#include "models/registry/model_registry.h"
#include "pipeline/connectors/decision_publisher.h"
#include "support/http_client.h"
#include "support/running_node.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil;
using json = nlohmann::json;

namespace {

const std::string token = "test-token-123";

double metric_sum(const std::string& metrics, const std::string& prefix) {
  double sum = 0;
  std::size_t at = 0;
  while ((at = metrics.find("\n" + prefix, at)) != std::string::npos) {
    auto space = metrics.find(' ', at + 1);
    sum += std::stod(metrics.substr(space + 1));
    at = space;
  }
  return sum;
}

bool has_rule(const json& d, const std::string& rule) {
  for (const auto& r : d["reasons"])
    if (r.value("rule", "") == rule)
      return true;
  return false;
}

json tx(const std::string& id, const std::string& user, double amount) {
  return {{"transaction_id", id}, {"user_id", user}, {"amount", amount}, {"currency", "EUR"},
          {"merchant", {{"id", "m-shadow"}, {"category", "electronics"}}},
          {"timestamp", "2024-02-01T12:00:00Z"},
          {"location", {{"country", "DE"}, {"lat", 52.5}, {"lon", 13.4}}},
          {"device_id", "d-shadow"}, {"channel", "online"}};
}

} // namespace

TEST_CASE("shadow decides beside production on the stream and on /predict and never changes a served decision",
          "[integration][http][rules]") {
  const int version = models::model_registry{testing::trained_registry()}.production()->version;
  const std::vector<rules::rule_definition> decline_all{{"all", "tx.amount >= 0", "decline", 0, "shadow only"}};
  // The same simulated stream twice: without a shadow, and with one whose
  // rule declines everything.
  testing::running_node plain("shadow-off", 2'000, token);
  REQUIRE(plain.node->wait_drained(std::chrono::seconds(120)));
  testing::running_node shadowed("shadow-on", 2'000, token, [&](config::runtime_config& c) {
    c.shadow_enabled = true;
    c.shadow_model_version = version;
    c.shadow_rules = decline_all;
  });
  REQUIRE(shadowed.node->wait_drained(std::chrono::seconds(120)));
  auto served = testing::read_decisions(shadowed.dir / "decisions.jsonl");
  auto reference = testing::read_decisions(plain.dir / "decisions.jsonl");
  REQUIRE(served.size() == 2'000);
  REQUIRE(reference.size() == 2'000);
  for (const auto& [id, d] : served) {
    const auto& r = reference.at(id);
    CHECK(d["decision"] == r["decision"]);
    CHECK(d["probability"] == r["probability"]);
    CHECK_FALSE(d.contains("shadow"));
    CHECK_FALSE(has_rule(d, "all"));
  }
  // Published apart: one shadow decision per transaction, all declined by the rule.
  std::size_t shadow_lines = 0;
  auto shadow = testing::read_decisions(connectors::shadow_decisions_path((shadowed.dir / "decisions.jsonl").string()),
                                        &shadow_lines);
  CHECK(shadow_lines == 2'000);
  REQUIRE(shadow.size() == 2'000);
  for (const auto& [id, d] : shadow) {
    CHECK(served.count(id) == 1);
    CHECK(d["shadow"] == true);
    CHECK(d["decision"] == "decline");
    CHECK(has_rule(d, "all"));
    CHECK(d["probability"] == served.at(id)["probability"]);  // the same model version scored it
  }
  CHECK_FALSE(std::filesystem::exists(connectors::shadow_decisions_path((plain.dir / "decisions.jsonl").string())));

  // Labels score both: the shadow flagged everything, so its frauds are
  // true positives and its legitimate ones false positives; production's
  // four outcomes add up to the same labels.
  auto labelled = [&](const std::string& variant, const std::string& outcome) {
    return metric_sum(testing::http_call(shadowed.port, "GET", "/metrics").body,
                      "vigil_shadow_labelled_total{variant=\"" + variant + "\",outcome=\"" + outcome + "\"}");
  };
  std::map<std::string, double> before_labels;
  for (const char* v : {"production", "shadow"})
    for (const char* o : {"tp", "fp", "fn", "tn"})
      before_labels[std::string(v) + o] = labelled(v, o);
  json labels = json::array();
  int frauds = 0, n = 0;
  for (const auto& [id, d] : served) {
    if (n == 10)
      break;
    labels.push_back({{"transaction_id", id}, {"is_fraud", n % 2 == 0}});
    frauds += n % 2 == 0;
    ++n;
  }
  auto fed = testing::http_call(shadowed.port, "POST", "/feedback", labels.dump(), token);
  REQUIRE(fed.status == 200);
  CHECK(json::parse(fed.body)["joined"] == 10);
  auto delta = [&](const std::string& v, const std::string& o) { return labelled(v, o) - before_labels[v + o]; };
  CHECK(delta("shadow", "tp") == frauds);
  CHECK(delta("shadow", "fp") == 10 - frauds);
  CHECK(delta("shadow", "fn") + delta("shadow", "tn") == 0);
  CHECK(delta("production", "tp") + delta("production", "fn") == frauds);
  CHECK(delta("production", "fp") + delta("production", "tn") == 10 - frauds);

  // /predict: the same transaction answered the same with the shadow on;
  // the shadow's decisions are counted by path, not answered.
  auto predict = [&](const std::string& id) {
    return json::parse(testing::http_call(shadowed.port, "POST", "/predict", tx(id, "u-shadow", 40).dump()).body);
  };
  auto shadow_predicted = [&] {
    return metric_sum(testing::http_call(shadowed.port, "GET", "/metrics").body,
                      "vigil_shadow_decisions_total{path=\"predict\"");
  };
  auto before = shadow_predicted();
  auto on = predict("s-1");
  CHECK(shadow_predicted() == before + 1);
  REQUIRE(testing::http_call(shadowed.port, "PATCH", "/config", R"({"shadow_enabled": false})", token).status == 200);
  auto off = predict("s-1");
  CHECK(shadow_predicted() == before + 1);
  CHECK(on["decision"] == off["decision"]);
  CHECK(on["probability"] == off["probability"]);
  CHECK(on["reasons"] == off["reasons"]);
  CHECK_FALSE(on.contains("shadow"));

  // A shadow model the registry does not hold is refused, field named.
  auto refused = testing::http_call(shadowed.port, "PATCH", "/config",
                                    R"({"shadow_enabled": true, "shadow_model_version": 999})", token);
  REQUIRE(refused.status == 422);
  CHECK(json::parse(refused.body)["details"][0]["field"] == "shadow_model_version");
  auto bad_rules = testing::http_call(shadowed.port, "PATCH", "/config",
                                      R"({"shadow_rules": [{"id": "x", "when": "score >", "action": "review"}]})",
                                      token);
  REQUIRE(bad_rules.status == 422);
  CHECK(json::parse(bad_rules.body)["details"][0]["field"] == "shadow_rules[0].when");
}
