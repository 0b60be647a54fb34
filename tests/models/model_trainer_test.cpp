#include "models/training/model_trainer.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>

using namespace vigil;

namespace {

// One simulated table shared by the training tests (built once: ~2 s).
const pipeline::feature_table& small_table() {
  static const pipeline::feature_table table = [] {
    pipeline::simulator_options o;
    o.seed = 21;
    o.expected_count = 60'000;
    o.fraud_scale = 2.0;
    pipeline::transaction_simulator sim{o};
    std::vector<pipeline::labelled_transaction> stream;
    for (int i = 0; i < 60'000; ++i)
      stream.push_back(sim.next());
    pipeline::feature_store store;
    return pipeline::replay_for_training(std::move(stream), store);
  }();
  return table;
}

models::training_options quick_options() {
  models::training_options o;
  o.trials = 2;
  o.max_rounds = 60;
  o.eval_every = 10;
  o.threads = 2;
  return o;
}

} // namespace

TEST_CASE("the temporal split keeps slices in event-time order", "[unit][training]") {
  std::vector<std::int64_t> times{1, 2, 3, 4, 5, 5, 5, 8, 9, 10};
  auto s = models::split_by_time(times, 0.5, 0.2);
  CHECK(s.train_end == 7);  // 5 is at the boundary: its ties stay in train
  CHECK(s.validation_end == 7);
  CHECK_THROWS_AS(models::split_by_time({3, 1, 2}, 0.5, 0.2), std::invalid_argument);
  CHECK_THROWS_AS(models::split_by_time(times, 0.9, 0.2), std::invalid_argument);
}

TEST_CASE("training on a small simulated set beats the base rate by far", "[integration][training]") {
  const auto& table = small_table();
  auto result = models::train_model(table, quick_options());
  double base_rate = double(result.test.positives) / result.test.rows;
  INFO("test PR-AUC " << result.test.pr_auc << " base rate " << base_rate);
  CHECK(result.test.pr_auc > 0.5);
  CHECK(result.test.pr_auc > 10 * base_rate);
  CHECK(result.test.roc_auc > 0.9);
  CHECK(result.test.confusion.recall() > 0.4);
  CHECK(result.trials.size() == 2);
  CHECK(result.best.rounds > 0);
  CHECK(result.train_end_ms <= table.event_times_ms[result.split.train_end]);
  CHECK_FALSE(result.model_json.empty());
}

TEST_CASE("threshold and model selection never look at the test slice", "[unit][training]") {
  auto table = small_table();
  auto first = models::train_model(table, quick_options());
  // Scramble every test label: selection must not change at all.
  for (std::size_t i = first.split.validation_end; i < table.rows(); ++i)
    table.labels[i] = (i % 2) ? 1.0f : 0.0f;
  auto second = models::train_model(table, quick_options());
  CHECK(second.threshold == first.threshold);
  CHECK(second.validation_pr_auc == first.validation_pr_auc);
  CHECK(second.best.rounds == first.best.rounds);
  CHECK(second.model_json == first.model_json);
  CHECK(second.test.pr_auc != first.test.pr_auc);
}
