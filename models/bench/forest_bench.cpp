// Benchmark: forest_evaluator against XGBoost's own prediction, one thread.
// Trains one depth-6 model on synthetic data, slices it to 100/300/1000
// trees, checks equality, then prints single-row latency (median ns per
// call) and batch throughput (median rows/s over several runs). Asserts
// nothing about time; aborts if the evaluator and XGBoost disagree.

#include "models/forest_evaluator.h"
#include "models/xgboost_handle.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace vigil::models;

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::size_t features = 30;
constexpr std::size_t train_rows = 20'000;
constexpr std::size_t batch_rows = 10'000;
constexpr int runs = 5;

volatile double sink = 0;  // keeps results alive without timing a store per call

struct data_set {
  std::vector<float> x, y;
};

data_set synthetic(std::size_t rows, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit(0, 1);
  data_set d;
  d.x.resize(rows * features);
  for (std::size_t i = 0; i < rows; ++i) {
    float* r = &d.x[i * features];
    for (std::size_t j = 0; j < features; ++j)
      r[j] = unit(rng) < 0.05f ? NAN : normal(rng);
    double z = r[0] * r[1] + std::sin(3 * (std::isnan(r[2]) ? 1.f : r[2])) + 0.5 * r[3] -
               (std::isnan(r[4]) ? 1.0 : r[4] * r[4]) + 0.3 * normal(rng);
    d.y.push_back(z > 0 ? 1.f : 0.f);
  }
  return d;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

template <typename F>
double median_ns_per_call(std::size_t calls, F&& call) {
  std::vector<double> ns(calls);
  for (std::size_t i = 0; i < calls; ++i) {
    auto start = clock_type::now();
    call(i);
    ns[i] = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
  }
  return median(ns);
}

template <typename F>
double median_rows_per_second(F&& run_batch) {
  std::vector<double> rates;
  for (int i = 0; i < runs; ++i) {
    auto start = clock_type::now();
    run_batch();
    rates.push_back(batch_rows / std::chrono::duration<double>(clock_type::now() - start).count());
  }
  return median(rates);
}

} // namespace

int main() {
  std::printf("training 1000 rounds, depth 6, %zu features, %zu rows, nthread=1...\n", features,
              train_rows);
  data_set train = synthetic(train_rows, 11);
  xgb_matrix dtrain(train.x.data(), train_rows, features);
  dtrain.set_labels(train.y);
  xgb_booster full({&dtrain});
  const char* params[][2] = {{"objective", "binary:logistic"}, {"tree_method", "hist"},
                             {"max_depth", "6"}, {"eta", "0.05"}, {"nthread", "1"}, {"seed", "3"}};
  for (const auto& p : params)
    full.set_param(p[0], p[1]);
  for (int round = 0; round < 1000; ++round)
    full.update_one_iter(round, dtrain);

  data_set test = synthetic(batch_rows, 12);
  const float* rows = test.x.data();
  std::vector<double> out(batch_rows);

  std::printf("\n%6s | %12s %12s %7s | %14s %14s %7s\n", "trees", "eval ns/row", "xgb ns/row",
              "ratio", "eval rows/s", "xgb rows/s", "ratio");
  for (int trees : {100, 300, 1000}) {
    xgb_booster sliced = full.slice(0, trees);
    sliced.set_param("nthread", "1");
    std::string error;
    auto forest = forest_evaluator::from_xgboost_json(sliced.save_json(), &error);
    double diff = 0;
    if (!forest || !matches_xgboost(*forest, sliced, rows, batch_rows, 1e-6, &diff, &error)) {
      std::fprintf(stderr, "evaluator differs from XGBoost at %d trees: %s\n", trees,
                   error.c_str());
      return EXIT_FAILURE;
    }

    double eval_ns = median_ns_per_call(50'000, [&](std::size_t i) {
      sink = sink + forest->predict_probability(rows + (i % batch_rows) * features);
    });
    double xgb_ns = median_ns_per_call(3'000, [&](std::size_t i) {
      sink = sink + sliced.predict_dense(rows + (i % batch_rows) * features, 1, features)[0];
    });
    double eval_rate = median_rows_per_second([&] {
      forest->predict_batch(rows, batch_rows, out.data());
      sink = sink + out[batch_rows / 2];
    });
    double xgb_rate = median_rows_per_second([&] {
      sink = sink + sliced.predict_dense(rows, batch_rows, features)[batch_rows / 2];
    });
    std::printf("%6d | %12.0f %12.0f %6.1fx | %14.0f %14.0f %6.1fx   (max |dp| %.1e)\n", trees,
                eval_ns, xgb_ns, xgb_ns / eval_ns, eval_rate, xgb_rate, eval_rate / xgb_rate, diff);
  }

  // Exact TreeSHAP (the reasons of flagged decisions): the evaluator's
  // contributions against XGBoost's pred_contribs on the same rows, after
  // checking they agree.
  constexpr std::size_t shap_rows = 200;
  std::printf("\nTreeSHAP, %zu rows, median of %d runs\n%6s | %14s %14s %7s | %s\n", shap_rows, runs, "trees",
              "eval us/row", "xgb us/row", "ratio", "max |d phi|");
  for (int trees : {100, 300}) {
    xgb_booster sliced = full.slice(0, trees);
    sliced.set_param("nthread", "1");
    std::string error;
    auto forest = forest_evaluator::from_xgboost_json(sliced.save_json(), &error);
    xgb_matrix m(rows, shap_rows, features);
    auto expected = sliced.contributions(m);
    std::vector<double> phi(features + 1);
    double worst = 0;
    for (std::size_t i = 0; i < shap_rows; ++i) {
      forest->contributions(rows + i * features, phi.data());
      for (std::size_t j = 0; j <= features; ++j)
        worst = std::max(worst, std::abs(phi[j] - expected[i * (features + 1) + j]));
    }
    if (worst > 1e-3) {
      std::fprintf(stderr, "TreeSHAP differs from XGBoost at %d trees: %.2e\n", trees, worst);
      return EXIT_FAILURE;
    }
    std::vector<double> eval_us, xgb_us;
    for (int r = 0; r < runs; ++r) {
      auto start = clock_type::now();
      for (std::size_t i = 0; i < shap_rows; ++i) {
        forest->contributions(rows + i * features, phi.data());
        sink = sink + phi[0];
      }
      eval_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / shap_rows);
      start = clock_type::now();
      sink = sink + sliced.contributions(m)[0];
      xgb_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / shap_rows);
    }
    double e = median(eval_us), x = median(xgb_us);
    std::printf("%6d | %14.1f %14.1f %6.1fx | %.1e\n", trees, e, x, x / e, worst);
  }
  return EXIT_SUCCESS;
}
