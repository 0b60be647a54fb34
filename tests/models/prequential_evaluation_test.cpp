// Prequential evaluation: daily precision@k and card precision@k by hand,
// and folds on simulated data that respect the training window, the delay
// and the labels known in time.

#include "models/evaluation/prequential_evaluation.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>

using namespace vigil;

TEST_CASE("precision@k and card precision@k are counted per day, over k", "[unit][evaluation]") {
  const std::int64_t day1 = 1'709'251'200'000, day2 = day1 + 86'400'000;  // 2024-03-01, 03-02
  std::vector<models::scored_row> rows{
    {day1 + 1, "u1", 0.9f, true},  {day1 + 2, "u2", 0.8f, false}, {day1 + 3, "u1", 0.1f, true},
    {day1 + 4, "u3", 0.05f, false}, {day2 + 1, "u4", 0.5f, true},
    {day2 + 2, "u5", 0.3f, false}, {day2 + 3, "u6", 0.3f, true}};  // a tie at 0.3
  auto days = models::daily_precision_at_k(rows, 2);
  REQUIRE(days.size() == 2);
  CHECK(days[0].day_start_ms == day1);
  CHECK(days[0].transactions == 4);
  CHECK(days[0].precision_at_k == 0.5);       // 0.9 fraud, 0.8 not
  CHECK(days[0].card_precision_at_k == 0.5);  // u1 (max 0.9, fraud), u2 (not)
  // Day 2: 0.5 fraud, then the tie ranks the legitimate one first.
  CHECK(days[1].precision_at_k == 0.5);
  CHECK(days[1].card_precision_at_k == 0.5);
  CHECK(models::mean_precision_at_k(days) == 0.5);
  // Fewer transactions than k still divide by k.
  auto sparse = models::daily_precision_at_k({{day1, "u1", 0.7f, true}}, 4);
  CHECK(sparse[0].precision_at_k == 0.25);
  CHECK(models::mean_card_precision_at_k({}) == 0);
}

TEST_CASE("prequential folds train on their window with the labels known by the test", "[integration][evaluation]") {
  pipeline::simulator_options so;
  so.seed = 31;
  so.expected_count = 40'000;
  so.fraud_scale = 2.0;
  pipeline::transaction_simulator sim{so};
  std::vector<pipeline::labelled_transaction> stream;
  for (int i = 0; i < 40'000; ++i)
    stream.push_back(sim.next());
  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(stream), store);
  models::prequential_options o;
  const std::int64_t day = 86'400'000;
  o.train_ms = 10 * day;
  o.delay_ms = 4 * day;
  o.test_ms = 5 * day;
  o.folds = 4;  // the simulated month holds three
  o.k = 20;
  o.training.trials = 1;
  o.training.max_rounds = 40;
  auto r = models::evaluate_prequential(table, o);
  REQUIRE(r.folds.size() == 3);
  CHECK(r.evaluated_folds == 3);
  for (std::size_t f = 0; f < r.folds.size(); ++f) {
    const auto& fold = r.folds[f];
    INFO("fold " << f << " " << fold.error);
    CHECK(fold.error.empty());
    CHECK(fold.test_end_ms - fold.test_begin_ms == o.test_ms);
    CHECK(fold.test_begin_ms - fold.train_end_ms == o.delay_ms);
    CHECK(fold.train_end_ms - fold.train_begin_ms == o.train_ms);
    if (f > 0)
      CHECK(fold.test_end_ms == r.folds[f - 1].test_begin_ms);  // each one test window earlier
    CHECK(fold.train_labels_unknown > 0);  // delays up to 7 days: some known only after the test starts
    double base_rate = double(fold.test_positives) / double(fold.test_rows);
    CHECK(fold.model.average_precision > 5 * base_rate);
    CHECK(fold.model.days.size() == 5);
    CHECK(fold.model.card_precision_at_k >= 0);
    CHECK(fold.model.card_precision_at_k <= 1);
    CHECK(fold.baseline.average_precision > 0);
  }
  auto j = models::to_json(r);
  CHECK(j["evaluated_folds"] == 3);
  CHECK(j["folds"][0]["model"]["days"].size() == 5);
  CHECK(j["mean"]["model"]["average_precision"].get<double>() > 0);
  auto svg = models::prequential_svg(r);
  CHECK(svg.rfind("<svg", 0) == 0);
  std::size_t bars = 0;
  for (auto at = svg.find("<rect x="); at != std::string::npos; at = svg.find("<rect x=", at + 1))
    ++bars;
  CHECK(bars == 3 * 2 * 2);  // folds x (model, baseline) x panels
}
