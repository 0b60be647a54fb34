// Reading back published decisions and stored labels after a restart.

#include "pipeline/stream/keyed_shards.h"
#include "actors//node/vigil_node.h"
#include "models/serving/decision_json.h"
#include "actors/pipeline/feature_actors.h"
#include "actors/pipeline/serving_model_actor.h"
#include "actors/pipeline/vigil_atoms.h"
#include "models/serving/scoring_model.h"
#include "actors/retrain/retrain_coordinator.h"
#include "pipeline/connectors/scored_history.h"
#include "config/runtime_config.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/http_client.h"
#include "support/test_registry.h"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <thread>

using namespace vigil;
using json = nlohmann::json;

namespace {

models::decision_record sample_decision() {
  models::decision_record d;
  d.transaction_id = "t-1";
  d.user_id = "u-1";
  d.merchant_id = "m-1";
  d.event_time_ms = 1'706'789'012'345;
  d.probability = 0.8125;
  d.model_version = 3;
  for (std::size_t i = 0; i < d.features.size(); ++i)
    d.features[i] = static_cast<float>(i) / 3.0f + 1e-7f;
  d.features[2] = std::nanf("");
  return d;
}

} // namespace

TEST_CASE("a published decision reads back with exactly the vector that was scored", "[unit][retrain]") {
  auto d = sample_decision();
  auto back = models::decision_from_json(json::parse(models::decision_to_json(d, true).dump()));
  REQUIRE(back.has_value());
  CHECK(back->transaction_id == "t-1");
  CHECK(back->user_id == "u-1");
  CHECK(back->merchant_id == "m-1");
  CHECK(back->event_time_ms == d.event_time_ms);
  CHECK(back->probability == d.probability);
  CHECK(back->model_version == 3);
  CHECK(std::isnan(back->features[2]));
  for (std::size_t i = 0; i < d.features.size(); ++i)
    if (i != 2)
      CHECK(back->features[i] == d.features[i]);  // bit-exact, not approximately
  CHECK(models::feature_snapshot_id(back->features) == models::feature_snapshot_id(d.features));

  // Without the features (or with one missing) it is not a scored vector.
  CHECK_FALSE(models::decision_from_json(models::decision_to_json(d, false)).has_value());
  auto partial = models::decision_to_json(d, true);
  partial["features"].erase(partial["features"].begin());
  CHECK_FALSE(models::decision_from_json(partial).has_value());
  CHECK_FALSE(models::decision_from_json(json("not an object")).has_value());
}

TEST_CASE("the last lines of a file are read from its end", "[unit][retrain]") {
  auto dir = testing::scratch_dir("last-lines");
  auto path = (dir / "lines.txt").string();
  {
    std::ofstream out(path);
    for (int i = 0; i < 5'000; ++i)  // ~250 KB: several 64 KB blocks
      out << "line " << i << " " << std::string(40, 'x') << "\n";
  }
  auto last = connectors::last_lines(path, 3);
  REQUIRE(last.size() == 3);
  CHECK(last[0].rfind("line 4997 ", 0) == 0);
  CHECK(last[2].rfind("line 4999 ", 0) == 0);
  auto all = connectors::last_lines(path, 100'000);
  REQUIRE(all.size() == 5'000);
  CHECK(all.front().rfind("line 0 ", 0) == 0);
  auto block = connectors::last_lines(path, 1'400);  // ends inside an earlier block
  REQUIRE(block.size() == 1'400);
  CHECK(block.front().rfind("line 3600 ", 0) == 0);
  CHECK(connectors::last_lines((dir / "missing.txt").string(), 10).empty());

  // A decisions file with a torn last line (a crash mid-write): skipped and counted.
  auto decisions = (dir / "decisions.jsonl").string();
  auto labels = (dir / "labels.jsonl").string();
  {
    std::ofstream out(decisions);
    out << models::decision_to_json(sample_decision(), true).dump() << "\n" << R"({"transaction_id":"t-2","us)";
    std::ofstream(labels) << R"({"transaction_id":"t-1","is_fraud":true})" << "\n";
  }
  std::atomic<bool> cancel{false};
  auto history = connectors::read_file_history(decisions, labels, 10, 10, cancel);
  REQUIRE(history.decisions.size() == 1);
  CHECK(history.decisions[0].transaction_id == "t-1");
  REQUIRE(history.labels.size() == 1);
  CHECK(history.labels[0].is_fraud);
  CHECK(history.malformed == 1);
  cancel = true;
  CHECK_THROWS_AS(connectors::read_file_history(decisions, labels, 10, 10, cancel), connectors::history_cancelled);
}

TEST_CASE("feedback for decisions scored before a restart still joins, and stored labels rebuild the labelled rows",
          "[integration][retrain]") {
  auto dir = testing::scratch_dir("restart-feedback");
  const int n = 3'000;
  auto c = testing::embedded_config(dir, n);
  c.auth_token = "restart-token";
  c.simulator_seed = 12;
  // The ids the node scores: same seed, same population.
  pipeline::simulator_options so;
  so.seed = 12;
  so.expected_count = 1'000'000;
  pipeline::transaction_simulator sim{so};
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(sim.next().tx.transaction_id);
  auto feedback = [&](unsigned short port, std::size_t from, std::size_t to) {
    json batch = json::array();
    for (auto i = from; i < to; ++i)
      batch.push_back({{"transaction_id", ids[i]}, {"is_fraud", i % 7 == 0}});
    auto r = testing::http_call(port, "POST", "/feedback", batch.dump(), "restart-token");
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  };

  {
    actors::vigil_node first{c, ""};
    first.start();
    REQUIRE(first.wait_drained(std::chrono::seconds(120)));
    CHECK(feedback(first.http_port(), 0, 100)["joined"] == 100);
    first.stop();
  }

  actors::vigil_node second{c, ""};
  second.start();
  auto port = second.http_port();
  json retraining;
  for (int i = 0; i < 300; ++i) {  // bounded: 60 s
    retraining = json::parse(testing::http_call(port, "GET", "/models").body)["retraining"];
    if (retraining["labelled_rows_restored"] == 100)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  INFO(retraining.dump());
  CHECK(retraining["labelled_rows_restored"] == 100);  // the first node's labels, joined again
  auto later = feedback(port, 100, 300);  // labels that arrive after the restart
  CHECK(later["joined"] == 200);
  CHECK(later["unknown_transaction_ids"].empty());
  retraining = json::parse(testing::http_call(port, "GET", "/models").body)["retraining"];
  CHECK(retraining["labelled_rows"] == 300);
  second.stop();
}

TEST_CASE("a label joined live while the read-back runs is not joined again from the store",
          "[integration][retrain]") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  auto merchant_shard = actors::spawn_merchant_feature_actor(sys, 0, 1, {}, 600'000, pipeline::state_bounds{}, nullptr);
  auto config = std::make_shared<config::runtime_config>();  // read-back on (the default)
  models::model_registry registry{testing::trained_registry()};
  auto owner = actors::spawn_serving_model(
    sys, models::load_scoring_model(registry, registry.production()->version), {});
  auto coordinator = actors::spawn_retrain_coordinator(sys, {{merchant_shard}, {}, owner, config, nullptr, nullptr});
  caf::scoped_actor self{sys};
  auto status = [&] {
    actors::retrain_status out;
    self->request(coordinator, std::chrono::seconds(10), actors::status_atom::value)
      .receive([&](const actors::retrain_status& s) { out = s; }, [](caf::error&) { FAIL(); });
    return out;
  };
  auto labels = [](std::vector<std::string> ids) {
    std::vector<pipeline::label_event> out;
    for (auto& id : ids)
      out.push_back({std::move(id), true, "", 0});
    return std::make_shared<const std::vector<pipeline::label_event>>(std::move(out));
  };

  // Read back first: decisions a and b. Then, before the stored labels
  // arrive, "a" is labelled live; the store (read a moment later) holds a and b.
  auto decisions = std::make_shared<models::decision_batch>(2, sample_decision());
  (*decisions)[1].transaction_id = "t-2";
  self->send(coordinator, actors::decisions_atom::value, std::uint64_t{0}, actors::decision_batch_ptr{decisions});
  self->request(coordinator, std::chrono::seconds(10), actors::label_atom::value, actors::label_batch_ptr{labels({"t-1"})})
    .receive([](const actors::label_receipt& reply) { CHECK(reply.joined == 1); }, [](caf::error&) { FAIL(); });
  self->send(coordinator, actors::restored_labels_atom::value, actors::label_batch_ptr{labels({"t-1", "t-2"})});
  auto after = status();
  CHECK(after.labelled_rows_restored == 1);  // only t-2
  CHECK(after.labelled_rows == 2);           // t-1 once, t-2 once

  // After the read-back, a second live label for t-1 (a retry, or a
  // correction) replaces its row's label: still one row per transaction.
  self->request(coordinator, std::chrono::seconds(10), actors::label_atom::value, actors::label_batch_ptr{labels({"t-1"})})
    .receive([](const actors::label_receipt&) {}, [](caf::error&) { FAIL(); });
  CHECK(status().labelled_rows == 2);
  self->send_exit(coordinator, caf::exit_reason::user_shutdown);
  self->send_exit(merchant_shard, caf::exit_reason::user_shutdown);
  self->send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("a rendered decision is valid JSON whatever its ids hold, numbers exact", "[unit][retrain]") {
  auto d = sample_decision();
  d.transaction_id = std::string("q\"\\\n\x01 \xc3\xa9 \xff end");  // quote, escapes, control, é, invalid byte
  d.reasons = {{"amount", 12.5f, -0.25}, {"user_count_24h", std::nanf(""), 1e-9}};
  d.probability = 0.1 + 0.2;  // not representable in few digits
  auto text = models::render_decision(d, true);
  auto j = json::parse(text);  // throws on invalid JSON
  CHECK(j["transaction_id"] == "q\"\\\n\x01 \xc3\xa9 \xef\xbf\xbd end");  // the bad byte is U+FFFD
  CHECK(j["probability"].get<double>() == d.probability);
  CHECK(j["reasons"][0]["feature"] == "amount");
  CHECK(j["reasons"][0]["contribution"].get<double>() == -0.25);
  CHECK(j["reasons"][1]["value"].is_null());
  CHECK(j["reasons"][1]["contribution"].get<double>() == 1e-9);
  CHECK(j["decision"] == "approve");
  CHECK(j["model_version"] == 3);
  CHECK(j["event_time"] == "2024-02-01T12:03:32.345Z");
  const auto& names = pipeline::feature_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (std::isnan(d.features[i]))
      CHECK(j["features"][names[i]].is_null());
    else
      CHECK(j["features"][names[i]].get<float>() == d.features[i]);
  }
  CHECK_FALSE(j.contains("shadow"));
  CHECK(models::render_decision(d, false).find("\"features\"") == std::string::npos);
}
