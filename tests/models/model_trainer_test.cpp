#include "models/training/model_trainer.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>

using namespace vigil;

namespace {

const std::vector<pipeline::labelled_transaction>& small_stream() {
  static const std::vector<pipeline::labelled_transaction> stream = [] {
    pipeline::simulator_options o;
    o.seed = 21;
    o.expected_count = 60'000;
    o.fraud_scale = 2.0;
    pipeline::transaction_simulator sim{o};
    std::vector<pipeline::labelled_transaction> out;
    for (int i = 0; i < 60'000; ++i)
      out.push_back(sim.next());
    return out;
  }();
  return stream;
}

pipeline::feature_table table_of(std::vector<pipeline::labelled_transaction> stream) {
  pipeline::feature_store store;
  return pipeline::replay_for_training(std::move(stream), store);
}

// One simulated table shared by the training tests (built once: ~2 s).
const pipeline::feature_table& small_table() {
  static const pipeline::feature_table table = table_of(small_stream());
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
  CHECK(s.validation_begin == 7);
  CHECK(s.validation_end == 9);
  CHECK(s.test_begin == 9);
  CHECK(s.fit_time_ms == 5);
  CHECK_THROWS_AS(models::split_by_time({3, 1, 2}, 0.5, 0.2), std::invalid_argument);
  CHECK_THROWS_AS(models::split_by_time(times, 0.9, 0.2), std::invalid_argument);
  CHECK_THROWS_AS(models::split_by_time(times, 0.5, 0.2, -1), std::invalid_argument);
}

TEST_CASE("the split leaves a gap of event time before validation and before test", "[unit][training]") {
  std::vector<std::int64_t> hours;
  for (std::int64_t h = 0; h < 100; ++h)
    hours.push_back(h);
  auto s = models::split_by_time(hours, 0.6, 0.2, 10);
  // Fractions are of the 80 rows outside the two 10-hour gaps.
  CHECK(s.train_end == 48);
  CHECK(hours[s.validation_begin] - hours[s.train_end - 1] > 10);
  CHECK(hours[s.validation_begin - 1] - hours[s.train_end - 1] <= 10);
  CHECK(s.validation_end - s.validation_begin == 16);
  CHECK(hours[s.test_begin] - hours[s.validation_end - 1] > 10);
  CHECK(s.rows - s.test_begin == 16);
  CHECK(s.fit_time_ms == 47 + 10);
  CHECK(s.selection_time_ms == hours[s.validation_end - 1] + 10);
  CHECK_THROWS_WITH(models::split_by_time(hours, 0.6, 0.2, 60),
                    Catch::Contains("without rows: give more history or a shorter gap"));
  // Labels known by a time: the rest are left out.
  std::vector<std::int64_t> known{5, 50, 7, 60};
  CHECK(models::rows_labelled_by(known, 0, 4, 10) == std::vector<std::size_t>{0, 2});
  CHECK(models::rows_labelled_by({}, 1, 3, 10) == std::vector<std::size_t>{1, 2});
  CHECK(models::median_label_delay_ms({0, 0, 0}, {3, 1, 2}) == 2);
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
  for (std::size_t i = first.split.test_begin; i < table.rows(); ++i)
    table.labels[i] = (i % 2) ? 1.0f : 0.0f;
  auto second = models::train_model(table, quick_options());
  CHECK(second.threshold == first.threshold);
  CHECK(second.validation_pr_auc == first.validation_pr_auc);
  CHECK(second.best.rounds == first.best.rounds);
  CHECK(second.model_json == first.model_json);
  CHECK(second.test.pr_auc != first.test.pr_auc);
}

TEST_CASE("labels known only after the model was selected leave it unchanged", "[integration][training]") {
  const auto& table = small_table();
  auto first = models::train_model(table, quick_options());
  const auto& s = first.split;
  REQUIRE(s.gap_ms > 0);  // the median simulated delay
  // Flip every label that became known after selection, in the input: its
  // release into merchant features and its training row both move.
  auto stream = small_stream();
  std::size_t flipped = 0, flipped_before_test = 0;
  for (auto& r : stream)
    if (r.label && r.label->label_time_ms > s.selection_time_ms) {
      r.label->is_fraud = !r.label->is_fraud;
      ++flipped;
      flipped_before_test += r.tx.event_time_ms <= first.validation_end_ms ? 1 : 0;
    }
  REQUIRE(flipped_before_test > 100);  // training and validation rows among them
  auto second = models::train_model(table_of(stream), quick_options());
  CHECK(second.model_json == first.model_json);
  CHECK(second.threshold == first.threshold);
  CHECK(second.test.pr_auc != first.test.pr_auc);  // the test slice did see the flips
  CHECK(first.train_labels_unknown > 0);
  CHECK(first.validation_labels_unknown > 0);
}

TEST_CASE("the chosen model is never worse on validation than plain XGBoost", "[integration][training]") {
  const auto& table = small_table();
  auto result = models::train_model(table, quick_options());
  CHECK(result.validation_pr_auc >= result.baseline.validation_pr_auc);
  CHECK(result.baseline.params.eta == 0.3);
  CHECK_FALSE(result.baseline.params.class_weighted);
  CHECK(result.baseline.test.rows == result.test.rows);  // same test rows
  CHECK(result.baseline.test.pr_auc > 0.3);
  // With a search that cannot compete (one round), the baseline is chosen.
  auto weak = quick_options();
  weak.trials = 1;
  weak.max_rounds = 1;
  auto fallback = models::train_model(table, weak);
  CHECK(fallback.baseline_chosen);
  CHECK(fallback.best.rounds == 100);
  CHECK(fallback.validation_pr_auc == fallback.baseline.validation_pr_auc);
}
