// Retraining: the champion/challenger rule, the schedule, the label join,
// and a full cycle through the running node's HTTP API.

#include "actors/node/vigil_node.h"
#include "actors/retrain/retrain_coordinator.h"
#include "models/training/scored_log.h"
#include "models/serving/scoring_model.h"
#include "models/training/champion_challenger.h"
#include "models/training/model_publication.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/http_client.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

using namespace vigil;
using json = nlohmann::json;

namespace {

pipeline::feature_table simulated_table(std::uint64_t seed, int n) {
  pipeline::simulator_options o;
  o.seed = seed;
  o.expected_count = n;
  o.fraud_scale = 2.0;
  pipeline::transaction_simulator sim{o};
  std::vector<pipeline::labelled_transaction> stream;
  for (int i = 0; i < n; ++i)
    stream.push_back(sim.next());
  pipeline::feature_store store;
  return pipeline::replay_for_training(std::move(stream), store);
}

// A deliberately weak champion: trained on labels shifted off their rows,
// so it learnt noise.
models::forest_evaluator weak_model(pipeline::feature_table t) {
  std::rotate(t.labels.begin(), t.labels.begin() + 7'919, t.labels.end());
  models::training_options o;
  o.trials = 1;
  o.max_rounds = 3;
  o.eval_every = 1;
  auto r = models::train_model(t, o);
  std::string error;
  auto f = models::forest_evaluator::from_xgboost_json(r.model_json, &error);
  REQUIRE(f.has_value());
  return *f;
}

} // namespace

TEST_CASE("a challenger better than the champion by the margin is promoted, otherwise refused",
          "[integration][retrain]") {
  auto table = simulated_table(61, 40'000);
  auto weak = weak_model(table);
  models::training_options o;
  o.trials = 1;
  o.max_rounds = 60;
  auto better = models::challenge(table, &weak, o, 0.2, 0.01);
  INFO(better.reason);
  CHECK(better.promote);
  CHECK(better.challenger_pr_auc > better.champion_pr_auc + 0.01);
  CHECK(better.recent_rows == table.rows() - better.training_rows.rows());
  auto refused = models::challenge(table, &weak, o, 0.2, 0.99);
  CHECK_FALSE(refused.promote);
}

TEST_CASE("the daily schedule fires once when its UTC time is crossed", "[unit][retrain]") {
  const std::int64_t day = 86'400'000, at_3am = 3 * 3'600'000;
  CHECK(actors::schedule_due("03:00", 10 * day + at_3am - 1000, 10 * day + at_3am));
  CHECK_FALSE(actors::schedule_due("03:00", 10 * day + at_3am, 10 * day + at_3am + 1000));
  CHECK_FALSE(actors::schedule_due("03:00", 10 * day + 5 * 3'600'000, 10 * day + 6 * 3'600'000));
  CHECK(actors::schedule_due("03:00", 10 * day + 5 * 3'600'000, 11 * day + at_3am + 5));
  CHECK_FALSE(actors::schedule_due("", 0, 20 * day));
}

TEST_CASE("labels join the logged vector and unknown ids do not", "[unit][retrain]") {
  models::scored_log log{2, 10};
  models::decision_record d;
  d.transaction_id = "a";
  d.merchant_id = "m";
  d.event_time_ms = 5;
  d.features[0] = 42;
  log.record(d);
  d.transaction_id = "b";
  log.record(d);
  d.transaction_id = "c";  // evicts "a" (capacity 2)
  log.record(d);
  CHECK_FALSE(log.join({"a", true, "", 0}).has_value());
  auto joined = log.join({"b", true, "", 0});
  REQUIRE(joined.has_value());
  CHECK(joined->features[0] == 42);
  CHECK(joined->merchant_id == "m");
  auto rows = log.labelled_rows();
  REQUIRE(rows.rows() == 1);
  CHECK(rows.labels[0] == 1.0f);
  CHECK(rows.row(0)[0] == 42);
}

TEST_CASE("a retrain cycle through the node promotes a better model and hot-swaps it",
          "[integration][retrain]") {
  // Champion: a weak production model in a fresh registry.
  auto dir = testing::scratch_dir("retrain-cycle");
  models::model_registry registry{dir / "registry"};
  auto small = simulated_table(62, 20'000);
  models::training_options weak;
  weak.trials = 1;
  weak.max_rounds = 2;
  weak.eval_every = 1;
  auto weak_result = models::train_model(small, weak);
  int champion = models::register_trained_model(registry, weak_result, small);
  registry.set_stage(champion, models::model_stage::production);

  const int n = 30'000;
  auto c = testing::embedded_config(dir, n);
  c.registry_dir = (dir / "registry").string();
  c.auth_token = "retrain-token";
  c.simulator_seed = 9;
  c.promote_margin = 0.01;
  actors::vigil_node node{c, ""};
  node.start();
  REQUIRE(node.wait_drained(std::chrono::seconds(120)));
  auto port = node.http_port();

  // Ground truth for the stream the node just scored: same seed, same population.
  pipeline::simulator_options so;
  so.seed = 9;
  so.expected_count = 1'000'000;
  pipeline::transaction_simulator sim{so};
  json batch = json::array();
  for (int i = 0; i < n; ++i) {
    auto r = sim.next();
    batch.push_back({{"transaction_id", r.tx.transaction_id}, {"is_fraud", r.label->is_fraud}});
    if (batch.size() == 1000 || i + 1 == n) {
      auto res = testing::http_call(port, "POST", "/feedback", batch.dump(), "retrain-token");
      REQUIRE(res.status == 200);
      CHECK(json::parse(res.body)["joined"] == batch.size());
      batch = json::array();
    }
  }
  auto started = testing::http_call(port, "POST", "/retrain", "", "retrain-token");
  REQUIRE(started.status == 202);
  CHECK(json::parse(started.body)["status"] == "started");
  json status;
  for (int i = 0; i < 600; ++i) {  // bounded: 120 s
    status = json::parse(testing::http_call(port, "GET", "/models").body);
    if (!status["retraining"]["last_run"].is_null())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto last = status["retraining"]["last_run"];
  INFO(last.dump());
  REQUIRE_FALSE(last.is_null());
  CHECK(last["outcome"] == "promoted");
  int promoted = last["version"];
  CHECK(promoted > champion);
  CHECK(status["serving_version"] == promoted);
  // Scorers now use the new model.
  auto d = json::parse(testing::http_call(port, "POST", "/predict",
    R"({"transaction_id":"after","user_id":"u-1","amount":10,"currency":"EUR","merchant":{"id":"m-1","category":"grocery"},"timestamp":"2024-02-01T00:00:00Z","location":{"country":"DE"}})").body);
  CHECK(d["model_version"] == promoted);

  // A second run must now beat the new champion by an impossible margin: refused.
  REQUIRE(testing::http_call(port, "PATCH", "/config", R"({"promote_margin": 0.99})", "retrain-token").status == 200);
  REQUIRE(testing::http_call(port, "POST", "/retrain", "", "retrain-token").status == 202);
  for (int i = 0; i < 600; ++i) {
    status = json::parse(testing::http_call(port, "GET", "/models").body);
    if (status["retraining"]["last_run"]["version"] != promoted && !status["retraining"]["running"].get<bool>())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(status["retraining"]["last_run"]["outcome"] == "rejected");
  CHECK(status["serving_version"] == promoted);
  node.stop();
}
