// A backtest over a decisions log: each logged vector once (the last
// logging of a transaction), labels joined, a candidate's rules over the
// fields the log keeps, decisions compared with production's.

#include "models/evaluation/log_backtest.h"
#include "models/serving/batch_scoring.h"
#include "models/serving/scoring_model.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

using namespace vigil;

TEST_CASE("a log backtest replays each logged vector once against its labels, rules on logged fields",
          "[unit][backtest]") {
  models::model_registry registry{testing::trained_registry()};
  const int version = registry.production()->version;
  auto model = models::load_scoring_model(registry, version);

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<models::decision_record> log;
  for (int i = 0; i < 300; ++i) {
    models::decision_record d;
    d.transaction_id = "tx-" + std::to_string(i);
    d.user_id = "u" + std::to_string(i % 17);
    d.merchant_id = "m" + std::to_string(i % 5);
    d.event_time_ms = 1'700'000'000'000 + i * 3'600'000LL;
    for (auto& f : d.features)
      f = unit(rng) * 10;
    d.features[static_cast<int>(pipeline::feature::amount)] = unit(rng) * 100;
    log.push_back(d);
  }
  // tx-0 logged again (a replay after a crash): only the last logging counts.
  auto first = log[0];
  first.features[static_cast<int>(pipeline::feature::amount)] = 1000;
  log.insert(log.begin(), first);
  std::vector<pipeline::label_event> labels;
  for (int i = 0; i < 300; i += 6)
    labels.push_back({"tx-" + std::to_string(i), i % 12 == 0, "chargeback", 0});

  models::log_backtest_request request;
  request.candidate_version = request.production_version = version;
  REQUIRE(config::rules_from_json(nlohmann::json::parse(R"([{"id": "big", "when": "tx.amount > 60", "action": "decline"}])"),
                                  request.candidate_rules).empty());
  auto report = models::backtest_decisions_log(registry, log, labels, request);

  CHECK(report["rows"] == 300);
  CHECK(report["duplicates"] == 1);
  CHECK(report["labelled"] == 50);
  CHECK(report["production"]["labelled"] == 50);
  CHECK(report["production"]["frauds"] == 25);

  // Production, scored directly over the same 300 vectors.
  pipeline::work_batch batch(300);
  std::size_t big = 0, changed = 0;
  for (int i = 0; i < 300; ++i) {
    batch[i].tx.transaction_id = log[i + 1].transaction_id;
    batch[i].features = log[i + 1].features;
  }
  models::decision_thresholds thresholds{model->threshold, std::max(model->threshold, 0.9)};
  auto direct = models::score_batch(batch, *model, thresholds, false);
  std::map<std::string, long> counts;
  for (int i = 0; i < 300; ++i) {
    counts[models::to_string(direct[i].decision)]++;
    bool hits = log[i + 1].features[static_cast<int>(pipeline::feature::amount)] > 60;
    big += hits;
    changed += hits && direct[i].decision != models::decision_kind::decline;
  }
  for (const char* kind : {"approve", "review", "decline"})
    CHECK(report["production"]["decisions"][kind] == counts[kind]);
  CHECK(report["candidate"]["rule_hits"]["big"] == big);
  CHECK(report["changes"]["changed"] == changed);
  CHECK(report["candidate"]["decisions"]["decline"] == counts["decline"] + changed);
  CHECK(report["first_event_time"] == "2023-11-14T22:13:20.000Z");
}
