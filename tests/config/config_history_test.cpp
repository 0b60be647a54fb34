#include "config/config_history.h"
#include "config/token_file.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

using namespace vigil::config;
using json = nlohmann::json;

TEST_CASE("the default config is valid", "[unit][config]") {
  CHECK(validate(runtime_config{}).empty());
}

TEST_CASE("a valid live change gets a new version", "[unit][config]") {
  config_history h{runtime_config{}};
  auto errors = h.update({{"decline_threshold", 0.8}, {"batch_size", 64}}, "http");
  CHECK(errors.empty());
  CHECK(h.current().version == 2);
  CHECK(h.current().config.decline_threshold == 0.8);
  CHECK(h.current().config.batch_size == 64);
  CHECK(h.current().source == "http");
}

TEST_CASE("a change failing validation is refused whole with every reason", "[unit][config]") {
  config_history h{runtime_config{}};
  auto errors = h.update({{"batch_size", 64}, {"decline_threshold", 1.5},
                          {"nonsense", 1}, {"scorers", "four"}}, "http");
  std::map<std::string, std::string> reasons;
  for (const auto& e : errors)
    reasons[e.field] = e.reason;
  CHECK(errors.size() == 3);
  CHECK(reasons["decline_threshold"] == "must be in [0, 1]");
  CHECK(reasons["nonsense"] == "unknown field");
  CHECK(reasons["scorers"] == "must be an integer in [-2147483648, 2147483647]");
  // batch_size was valid but nothing changed.
  CHECK(h.current().version == 1);
  CHECK(h.current().config.batch_size == runtime_config{}.batch_size);
}

TEST_CASE("the input's pause grace changes live, from 1 ms to a minute", "[unit][config]") {
  config_history h{runtime_config{}};
  CHECK(h.current().config.pause_input_after_ms == 1'000);
  CHECK(h.update({{"pause_input_after_ms", 20}}, "http").empty());
  CHECK(h.current().config.pause_input_after_ms == 20);
  for (int bad : {0, -5, 60'001}) {
    auto errors = h.update({{"pause_input_after_ms", bad}}, "http");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "pause_input_after_ms");
    CHECK(errors[0].reason == "must be in [1, 60000]");
  }
  CHECK(h.current().config.pause_input_after_ms == 20);
}

TEST_CASE("cross-field rules are checked on the result", "[unit][config]") {
  config_history h{runtime_config{}};
  auto errors = h.update({{"review_threshold", 0.95}, {"decline_threshold", 0.9}}, "http");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "review_threshold");
  CHECK(errors[0].reason == "must not exceed decline_threshold");
}

TEST_CASE("restart-only fields cannot change live", "[unit][config]") {
  config_history h{runtime_config{}};
  auto errors = h.update({{"user_shards", 8}}, "http");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].reason == "can only change with a restart");
  // Sending the current value is not a change.
  CHECK(h.update({{"user_shards", runtime_config{}.user_shards}}, "http").empty());
}

TEST_CASE("rollback restores an earlier version as a new version", "[unit][config]") {
  config_history h{runtime_config{}};
  h.update({{"decline_threshold", 0.7}}, "http");
  h.update({{"decline_threshold", 0.6}}, "http");
  CHECK(h.rollback(2).empty());
  CHECK(h.current().version == 4);
  CHECK(h.current().config.decline_threshold == 0.7);
  CHECK(h.current().source == "rollback to 2");
  CHECK(h.rollback(99).front().field == "version");
}

TEST_CASE("a config file is read on top of the defaults or refused with reasons", "[unit][config]") {
  auto path = std::string("/tmp/vigil-config-test-") + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << R"({"http_port": 9090, "user_shards": 4})";
  auto c = load_config_file(path);
  CHECK(c.http_port == 9090);
  CHECK(c.user_shards == 4);
  CHECK(c.scorers == runtime_config{}.scorers);
  std::ofstream(path) << R"({"http_port": -1})";
  CHECK_THROWS_WITH(load_config_file(path), Catch::Contains("http_port: must be in [0, 65535]"));
  std::remove(path.c_str());
}

TEST_CASE("feature toggles must name schema features", "[unit][config]") {
  config_history h{runtime_config{}};
  auto refused = h.update({{"disabled_features", {"geo_speed_kmh", "no_such_feature"}}}, "test");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].field == "disabled_features");
  CHECK(h.update({{"disabled_features", "geo_speed_kmh"}}, "test").front().reason == "must be an array of strings");
  CHECK(h.update({{"disabled_features", {"geo_speed_kmh"}}}, "test").empty());
  CHECK(h.current().config.disabled_features == std::vector<std::string>{"geo_speed_kmh"});
}

TEST_CASE("the read-back of decisions is bounded by the scored log", "[unit][config]") {
  runtime_config c;
  c.readback_decisions = 500'001;
  auto errors = validate(c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "readback_decisions");
  c.readback_decisions = -1;
  CHECK(validate(c).size() == 1);
  c.readback_decisions = 0;  // none
  CHECK(validate(c).empty());
}

TEST_CASE("an integer a field cannot hold is refused, never truncated", "[unit][config]") {
  config_history h{runtime_config{}};
  const auto before = h.current();
  for (const char* patch : {R"({"retrain_min_new_labels": 4294967297})", R"({"snapshot_interval_ms": 4294967396})",
                            R"({"batch_size": 4294967552})", R"({"batch_size": -4294967296})",
                            R"({"readback_decisions": 18446744073709551615})"}) {
    INFO(patch);
    auto errors = h.update(json::parse(patch), "test");
    REQUIRE(errors.size() >= 1);
    CHECK(errors[0].reason.find("must be an integer in [") == 0);
    CHECK(h.current().version == before.version);  // nothing changed
  }
  CHECK(h.current().config.batch_size == before.config.batch_size);
  CHECK(h.current().config.retrain_min_new_labels == before.config.retrain_min_new_labels);
  CHECK(h.update(json::parse(R"({"batch_size": 512})"), "test").empty());  // in range: applied
  CHECK(h.current().config.batch_size == 512);
}

TEST_CASE("a change to what is current adds no version", "[unit][config]") {
  config_history h{runtime_config{}};
  CHECK(h.update({{"batch_size", 256}}, "http").empty());  // the default already
  CHECK(h.update(nlohmann::json::object(), "http").empty());
  CHECK(h.versions().size() == 1);
  CHECK(h.update({{"batch_size", 100}}, "http").empty());
  CHECK(h.update({{"batch_size", 100}}, "http").empty());
  CHECK(h.versions().size() == 2);
}

TEST_CASE("tokens are not part of a rollback or a reload", "[unit][config]") {
  runtime_config initial;
  initial.auth_token = "first-token-1";
  config_history h{initial};
  REQUIRE(h.update({{"auth_token", "second-token-2"}}, "http").empty());
  REQUIRE(h.update({{"batch_size", 7}}, "http").empty());
  REQUIRE(h.rollback(1).empty());
  CHECK(h.current().config.batch_size == 256);
  CHECK(h.current().config.auth_token == "second-token-2");
  auto file = initial;
  file.batch_size = 9;
  REQUIRE(h.replace(file, "sighup").empty());
  CHECK(h.current().config.auth_token == "second-token-2");
}

TEST_CASE("the default token only with a loopback address, and tokens are visible ASCII", "[unit][config]") {
  CHECK(is_loopback_address("127.0.0.1"));
  CHECK(is_loopback_address("127.8.9.10"));
  CHECK(is_loopback_address("::1"));
  CHECK(is_loopback_address("localhost"));
  CHECK_FALSE(is_loopback_address("0.0.0.0"));
  CHECK_FALSE(is_loopback_address("10.1.2.3"));
  CHECK_FALSE(is_loopback_address("128.0.0.1"));
  runtime_config out;
  auto exposed = apply_patch(runtime_config{}, {{"http_address", "0.0.0.0"}}, false, out);
  REQUIRE(exposed.size() == 1);
  CHECK(exposed[0].field == "auth_token");
  CHECK(apply_patch(runtime_config{}, {{"http_address", "0.0.0.0"}, {"auth_token", "a-real-secret"}}, false, out).empty());
  for (const char* bad : {"short", "with space inside", "tab\there-x"})
    CHECK(apply_patch(runtime_config{}, {{"auth_token", bad}}, true, out).front().field == "auth_token");
}

TEST_CASE("cluster settings: a port or -1, an interface, no default token off loopback",
          "[unit][config][cluster]") {
  runtime_config out;
  const json cluster = {{"brokers", "k:9092"}, {"redis", "r:6379"}};
  CHECK_FALSE(clustered(runtime_config{}));  // embedded: no brokers, no Redis
  REQUIRE(apply_patch(runtime_config{}, cluster, false, out).empty());
  CHECK(clustered(out));
  REQUIRE(apply_patch(out, {{"cluster_port", -1}}, false, out).empty());
  CHECK_FALSE(clustered(out));
  auto field_of = [](const std::vector<config_error>& e) { return e.size() == 1 ? e[0].field : "(" + std::to_string(e.size()) + " errors)"; };
  CHECK(field_of(apply_patch(runtime_config{}, {{"cluster_port", 65536}}, false, out)) == "cluster_port");
  CHECK(field_of(apply_patch(runtime_config{}, {{"cluster_port", -2}}, false, out)) == "cluster_port");
  CHECK(field_of(apply_patch(runtime_config{}, {{"cluster_advertise_port", 70000}}, false, out)) ==
        "cluster_advertise_port");
  CHECK(field_of(apply_patch(runtime_config{}, {{"cluster_address", ""}}, false, out)) == "cluster_address");
  json everywhere = cluster;
  everywhere["cluster_address"] = "0.0.0.0";
  everywhere["cluster_advertise"] = "node-a.internal";
  everywhere["auth_token"] = "a-real-secret";
  CHECK(apply_patch(runtime_config{}, everywhere, false, out).empty());
  // The default token joins no cluster off loopback.
  everywhere.erase("auth_token");
  CHECK(field_of(apply_patch(runtime_config{}, everywhere, false, out)) == "auth_token");
  // A clustered node's local merchant shards divide the cluster's 64.
  json three = cluster;
  three["merchant_shards"] = 3;
  CHECK(field_of(apply_patch(runtime_config{}, three, false, out)) == "merchant_shards");
  three["cluster_port"] = -1;  // outside any cluster, any count
  CHECK(apply_patch(runtime_config{}, three, false, out).empty());
  json eight = cluster;
  eight["merchant_shards"] = 8;
  CHECK(apply_patch(runtime_config{}, eight, false, out).empty());
  // Restart only.
  for (const char* field : {"cluster_port", "cluster_address", "cluster_advertise"})
    CHECK(std::find(restart_only_fields().begin(), restart_only_fields().end(), field) != restart_only_fields().end());
}

TEST_CASE("the token file: written atomically with mode 0600, read back, refused when broken", "[unit][config]") {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "token").string();
  CHECK_FALSE(read_token_file(path));
  write_token_file(path, "persisted-token-1");
  CHECK(read_token_file(path) == std::optional<std::string>("persisted-token-1"));
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  runtime_config c;
  c.auth_token_path = path;
  CHECK(with_persisted_token(c).auth_token == "persisted-token-1");
  std::ofstream(path) << "bad\n";
  CHECK_THROWS_WITH(read_token_file(path), Catch::Contains("no valid token"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("rules are part of the versioned config: validated whole, every problem by its place, rolled back",
          "[unit][config][rules]") {
  config_history h{runtime_config{}};
  auto refused = h.update(json::parse(R"({"decline_threshold": 0.8, "rules": [
      {"id": "deny", "when": "tx.user_id in ['u-1']", "action": "decline"},
      {"id": "deny", "when": "tx.amount >", "action": "block", "colour": "red"},
      {"when": 3, "action": "review"},
      "not an object"]})"),
                          "http");
  std::map<std::string, std::string> reasons;
  for (const auto& e : refused)
    reasons[e.field] = e.reason;
  CHECK(reasons["rules[1].colour"].find("unknown field") != std::string::npos);
  CHECK(reasons["rules[2].when"] == "must be a string");
  CHECK(reasons["rules[2].id"] == "is required");
  CHECK(reasons["rules[3]"].find("must be an object") != std::string::npos);
  CHECK(h.current().version == 1);  // nothing of it applied, the threshold neither
  CHECK(h.current().config.decline_threshold == runtime_config{}.decline_threshold);

  // Read fine, but wrong as rules: validation names each rule's field.
  refused = h.update(json::parse(R"({"rules": [
      {"id": "deny", "when": "tx.user_id in ['u-1']", "action": "decline"},
      {"id": "deny", "when": "tx.amount >", "action": "block"}]})"),
                     "http");
  reasons.clear();
  for (const auto& e : refused)
    reasons[e.field] = e.reason;
  CHECK(reasons["rules[1].id"].find("used by an earlier rule") != std::string::npos);
  CHECK(reasons["rules[1].when"].find("at character 11") != std::string::npos);
  CHECK(reasons["rules[1].action"].find("one of review") != std::string::npos);
  CHECK(h.current().version == 1);

  auto good = json::parse(R"({"rules": [
      {"id": "deny", "when": "tx.user_id in ['u-1']", "action": "decline", "description": "chargebacks"},
      {"id": "boost", "when": "tx.country == 'NG'", "action": "adjust", "score_delta": 0.2}]})");
  REQUIRE(h.update(good, "http").empty());
  CHECK(h.current().version == 2);
  REQUIRE(h.current().config.rules.size() == 2);
  CHECK(h.current().config.rules[1].score_delta == 0.2);
  // It reads back as it was written, so a cluster shares it and history rolls it back.
  auto written = to_json(h.current().config)["rules"];
  CHECK(written[0]["description"] == "chargebacks");
  CHECK(written[1]["score_delta"] == 0.2);
  runtime_config round_trip;
  REQUIRE(apply_patch(runtime_config{}, json{{"rules", written}}, true, round_trip).empty());
  CHECK(round_trip.rules == h.current().config.rules);
  REQUIRE(h.update({{"rules", json::array()}}, "http").empty());
  CHECK(h.current().config.rules.empty());
}
