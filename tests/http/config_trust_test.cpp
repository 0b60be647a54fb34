// The operator's view of config and tokens on a real node over loopback:
// rollback brings back the served model, a rotated token survives restarts
// and rollbacks, a no-op change is not a version, the default token is
// refused where others could use it.

#include "actors/node/vigil_node.h"
#include "models/registry/model_registry.h"
#include "support/http_client.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil;
using json = nlohmann::json;

namespace {

struct running_node {
  std::unique_ptr<actors::vigil_node> node;
  unsigned short port = 0;
  explicit running_node(const config::runtime_config& c) : node(std::make_unique<actors::vigil_node>(c, "")) {
    node->start();
    port = node->http_port();
  }
  ~running_node() { node->stop(); }
  testing::client_response call(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& bearer) const {
    return testing::http_call(port, method, target, body, bearer);
  }
  int version(const std::string& bearer) const { return json::parse(call("GET", "/config", "", bearer).body)["version"]; }
};

json tx(const std::string& id) {
  return {{"transaction_id", id}, {"user_id", "u-trust"}, {"amount", 12.5}, {"currency", "EUR"},
          {"merchant", {{"id", "m-trust"}, {"category", "grocery"}}}, {"timestamp", "2024-02-01T12:00:00Z"},
          {"location", {{"country", "DE"}}}};
}

int served_version(const running_node& n) {
  return json::parse(n.call("POST", "/predict", tx("t-served").dump(), "").body)["model_version"];
}

} // namespace

TEST_CASE("a rotated token survives a rollback and a restart", "[integration][http][security]") {
  auto dir = testing::scratch_dir("token");
  auto c = testing::embedded_config(dir, 100);
  c.auth_token = "initial-token-1";
  {
    running_node n{c};
    auto rotated = n.call("PATCH", "/config", R"({"auth_token": "rotated-token-2"})", "initial-token-1");
    REQUIRE(rotated.status == 200);
    CHECK(n.call("POST", "/retrain", "", "initial-token-1").status == 403);
    // Version 1 holds the initial token; rolling back to it keeps the rotated one.
    REQUIRE(n.call("POST", "/config/rollback/1", "", "rotated-token-2").status == 200);
    CHECK(n.call("PATCH", "/config", R"({"batch_size": 128})", "rotated-token-2").status == 200);
    CHECK(n.call("PATCH", "/config", R"({"batch_size": 64})", "initial-token-1").status == 403);
  }
  // Same config file (initial token), restarted: the rotation is still in force.
  running_node again{c};
  CHECK(again.call("PATCH", "/config", R"({"batch_size": 64})", "rotated-token-2").status == 200);
  CHECK(again.call("PATCH", "/config", R"({"batch_size": 32})", "initial-token-1").status == 403);
  // A token that would not validate is refused whole.
  CHECK(again.call("PATCH", "/config", R"({"auth_token": "has space"})", "rotated-token-2").status == 422);
}

TEST_CASE("a change that changes nothing is not a new version", "[integration][http]") {
  auto dir = testing::scratch_dir("noop");
  auto c = testing::embedded_config(dir, 100);
  c.auth_token = "noop-token-1";
  running_node n{c};
  REQUIRE(n.call("PATCH", "/config", R"({"batch_size": 100})", "noop-token-1").status == 200);
  CHECK(n.version("noop-token-1") == 2);
  for (int i = 0; i < 5; ++i)
    CHECK(n.call("PATCH", "/config", R"({"batch_size": 100})", "noop-token-1").status == 200);
  CHECK(n.call("PATCH", "/config", "{}", "noop-token-1").status == 200);
  auto view = json::parse(n.call("GET", "/config", "", "noop-token-1").body);
  CHECK(view["version"] == 2);
  CHECK(view["history"].size() == 2);
  // Rolling back to what is current is a no-op as well.
  CHECK(n.call("POST", "/config/rollback/2", "", "noop-token-1").status == 200);
  CHECK(n.version("noop-token-1") == 2);
}

TEST_CASE("a rollback brings back the served model", "[integration][http]") {
  auto dir = testing::scratch_dir("rollback-model");
  std::filesystem::copy(testing::trained_registry(), dir / "registry", std::filesystem::copy_options::recursive);
  models::model_registry registry{dir / "registry"};
  int production = registry.production()->version;
  int candidate = registry.add(registry.model_json(production), registry.find(production)->metadata);
  registry.set_stage(candidate, models::model_stage::candidate);
  auto version_dir = [&](int v) { return dir / "registry" / ("v" + std::to_string(v)); };
  std::filesystem::copy_file(version_dir(production) / "sample_rows.bin", version_dir(candidate) / "sample_rows.bin");
  auto c = testing::embedded_config(dir, 100);
  c.registry_dir = (dir / "registry").string();
  c.auth_token = "model-token-1";
  running_node n{c};
  CHECK(served_version(n) == production);
  auto switched = n.call("PATCH", "/config", R"({"model_stage": "candidate"})", "model-token-1");
  INFO(switched.body);
  REQUIRE(switched.status == 200);
  CHECK(served_version(n) == candidate);
  REQUIRE(n.call("POST", "/config/rollback/1", "", "model-token-1").status == 200);
  CHECK(served_version(n) == production);
  auto models = json::parse(n.call("GET", "/models", "", "").body);
  CHECK(models["serving_version"] == production);
  // Served and configured agree again, so switching back is a real change.
  auto again = n.call("PATCH", "/config", R"({"model_stage": "candidate"})", "model-token-1");
  INFO(again.body);
  REQUIRE(again.status == 200);
  CHECK(n.version("model-token-1") == 4);
  CHECK(served_version(n) == candidate);
}

TEST_CASE("the default token is refused off loopback and reported on it", "[integration][http][security]") {
  auto dir = testing::scratch_dir("default-token");
  auto c = testing::embedded_config(dir, 100);
  c.auth_token = config::default_auth_token;
  c.http_address = "0.0.0.0";
  actors::vigil_node exposed{c, ""};
  CHECK_THROWS_WITH(exposed.start(), Catch::Contains("default auth_token"));
  c.http_address = "127.0.0.1";
  running_node local{c};
  CHECK(local.call("GET", "/metrics", "", "").body.find("vigil_default_token_in_use 1") != std::string::npos);
}
