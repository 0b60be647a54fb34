#include "models/forest_evaluator.h"
#include "models/xgboost_handle.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace vigil::models;

namespace {

constexpr std::size_t cols = 8;

struct data_set {
  std::size_t rows = 0;
  std::vector<float> x, y;
  const float* row(std::size_t i) const { return x.data() + i * cols; }
};

// Labels depend on interactions and on missingness itself, so the trained
// trees use NaN default directions both ways.
data_set synthetic(std::size_t rows, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit(0, 1);
  data_set d;
  d.rows = rows;
  for (std::size_t i = 0; i < rows; ++i) {
    float r[cols];
    for (float& v : r)
      v = unit(rng) < 0.15f ? NAN : normal(rng);
    double z = (std::isnan(r[0]) ? 1.5 : r[0] * r[1]) + std::sin(2 * r[2]) -
               (std::isnan(r[3]) ? 1.0 : 0.5 * r[3]) + 0.3 * normal(rng);
    d.x.insert(d.x.end(), r, r + cols);
    d.y.push_back(z > 0.2 ? 1.f : 0.f);
  }
  return d;
}

const data_set& train_rows() {
  static const data_set d = synthetic(4000, 1);
  return d;
}
const data_set& test_rows() {
  static const data_set d = synthetic(3000, 2);
  return d;
}

xgb_booster train(int depth, int rounds, double base_score,
                  const std::string& objective = "binary:logistic",
                  const std::string& booster = "gbtree") {
  const data_set& d = train_rows();
  xgb_matrix m(d.x.data(), d.rows, cols);
  std::vector<float> labels = d.y;
  if (objective == "multi:softprob")  // three classes from the binary label and a feature
    for (std::size_t i = 0; i < d.rows; ++i)
      labels[i] += d.row(i)[4] > 0.5f ? 1.f : 0.f;
  m.set_labels(labels);
  xgb_booster b({&m});
  b.set_param("objective", objective);
  b.set_param("booster", booster);
  b.set_param("tree_method", "hist");
  b.set_param("max_depth", std::to_string(depth));
  b.set_param("base_score", std::to_string(base_score));
  b.set_param("nthread", "1");
  b.set_param("seed", "5");
  if (objective == "multi:softprob")
    b.set_param("num_class", "3");
  for (int i = 0; i < rounds; ++i)
    b.update_one_iter(i, m);
  return b;
}

forest_evaluator load(const std::string& json) {
  std::string error;
  auto f = forest_evaluator::from_xgboost_json(json, &error);
  INFO(error);
  REQUIRE(f);
  return std::move(*f);
}

struct model_case {
  int depth, rounds;
  double base_score;
};

const model_case model_cases[] = {{1, 1, 0.5}, {1, 100, 0.5}, {6, 1, 0.2}, {6, 100, 0.5},
                                  {6, 100, 0.2}};

} // namespace

TEST_CASE("probabilities and margins equal XGBoost's on rows with missing values",
          "[unit][forest]") {
  const data_set& t = test_rows();
  for (const auto& c : model_cases) {
    INFO("depth " << c.depth << ", " << c.rounds << " trees, base_score " << c.base_score);
    xgb_booster b = train(c.depth, c.rounds, c.base_score);
    forest_evaluator f = load(b.save_json());
    REQUIRE(f.num_trees() == std::size_t(c.rounds));
    REQUIRE(f.num_features() == cols);
    CHECK(f.base_margin() == Approx(std::log(c.base_score / (1 - c.base_score))).margin(1e-6));

    auto p_xgb = b.predict_dense(t.x.data(), t.rows, cols);
    auto m_xgb = b.predict_dense(t.x.data(), t.rows, cols, /*margin=*/true);
    std::vector<double> batch(t.rows);
    f.predict_batch(t.x.data(), t.rows, batch.data());
    double p_diff = 0, m_diff = 0;
    std::size_t same_float_margin = 0;
    for (std::size_t i = 0; i < t.rows; ++i) {
      const double margin = f.predict_margin(t.row(i));
      m_diff = std::max(m_diff, std::abs(margin - m_xgb[i]));
      p_diff = std::max(p_diff, std::abs(f.predict_probability(t.row(i)) - p_xgb[i]));
      p_diff = std::max(p_diff, std::abs(batch[i] - p_xgb[i]));
      same_float_margin += static_cast<float>(margin) == m_xgb[i];
    }
    CHECK(p_diff <= 1e-6);
    CHECK(m_diff <= 1e-5);
    // Summed in float in XGBoost's order, the margins are XGBoost's exactly.
    CHECK(same_float_margin == t.rows);
  }
}

TEST_CASE("a missing value follows the tree's default direction", "[unit][forest]") {
  auto doc = nlohmann::json::parse(train(1, 1, 0.5).save_json());
  auto& tree = doc["learner"]["gradient_booster"]["model"]["trees"][0];
  const int left = tree["left_children"][0], right = tree["right_children"][0];
  const float left_leaf = tree["split_conditions"][left];
  const float right_leaf = tree["split_conditions"][right];
  REQUIRE(left_leaf != right_leaf);  // so the direction is visible in the margin

  std::vector<float> row(cols, NAN);
  for (int default_left : {1, 0}) {
    INFO("default_left " << default_left);
    tree["default_left"][0] = default_left;
    const std::string json = doc.dump();
    forest_evaluator f = load(json);
    const float leaf = default_left ? left_leaf : right_leaf;
    CHECK(f.predict_margin(row.data()) == Approx(f.base_margin() + leaf).margin(1e-7));
    auto b = xgb_booster::load_json(json);
    CHECK(f.predict_margin(row.data()) == b.predict_dense(row.data(), 1, cols, true)[0]);
  }
}

TEST_CASE("values at and one float either side of a split threshold go XGBoost's way",
          "[unit][forest]") {
  xgb_booster b = train(6, 100, 0.5);
  const std::string json = b.save_json();
  // Rows built from the model's own thresholds, their float neighbours and NaN,
  // so every node sees ties and near-ties, with missing values going either way.
  std::vector<std::vector<float>> thresholds(cols);
  std::size_t missing_right = 0;
  const auto doc = nlohmann::json::parse(json);
  for (const auto& tree : doc["learner"]["gradient_booster"]["model"]["trees"])
    for (std::size_t k = 0; k < tree["left_children"].size(); ++k)
      if (tree["left_children"][k] != -1) {
        thresholds[tree["split_indices"][k].get<int>()].push_back(tree["split_conditions"][k]);
        missing_right += tree["default_left"][k] == 0;
      }
  REQUIRE(missing_right > 0);
  std::mt19937 rng(9);
  std::vector<float> rows;
  for (std::size_t i = 0; i < 2000; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      if (thresholds[j].empty() || rng() % 8 == 0) {
        rows.push_back(NAN);
        continue;
      }
      const float t = thresholds[j][rng() % thresholds[j].size()];
      const float toward[] = {t, -INFINITY, INFINITY};
      rows.push_back(std::nextafter(t, toward[rng() % 3]));
    }
  forest_evaluator f = load(json);
  auto m_xgb = b.predict_dense(rows.data(), 2000, cols, /*margin=*/true);
  std::size_t same = 0;
  for (std::size_t i = 0; i < 2000; ++i)
    same += static_cast<float>(f.predict_margin(&rows[i * cols])) == m_xgb[i];
  CHECK(same == 2000);
}

TEST_CASE("contributions sum to the margin and match XGBoost's TreeSHAP", "[unit][forest]") {
  const data_set& t = test_rows();
  const std::size_t n = 500;
  for (const auto& c : model_cases) {
    INFO("depth " << c.depth << ", " << c.rounds << " trees, base_score " << c.base_score);
    xgb_booster b = train(c.depth, c.rounds, c.base_score);
    forest_evaluator f = load(b.save_json());
    xgb_matrix m(t.x.data(), n, cols);
    auto expected = b.contributions(m);
    REQUIRE(expected.size() == n * (cols + 1));
    std::vector<double> phi(cols + 1);
    double sum_diff = 0, phi_diff = 0;
    for (std::size_t i = 0; i < n; ++i) {
      f.contributions(t.row(i), phi.data());
      double sum = 0;
      for (std::size_t j = 0; j <= cols; ++j) {
        sum += phi[j];
        phi_diff = std::max(phi_diff, std::abs(phi[j] - expected[i * (cols + 1) + j]));
      }
      sum_diff = std::max(sum_diff, std::abs(sum - f.predict_margin(t.row(i))));
    }
    CHECK(sum_diff <= 1e-4);
    CHECK(phi_diff <= 1e-4);
  }
}

// The quadrature takes ceil(depth / 2) points: depths 2 to 16 cover the
// unrolled walks (1 to 6 points) and the general one; deep trees on these
// eight columns meet the same feature many times on one path.
TEST_CASE("TreeSHAP is exact at every depth, with features repeated along paths", "[unit][forest]") {
  const data_set& t = test_rows();
  const std::size_t n = 300;
  for (int depth : {2, 3, 4, 5, 7, 9, 11, 16}) {
    INFO("depth " << depth);
    xgb_booster b = train(depth, 8, 0.3);
    forest_evaluator f = load(b.save_json());
    xgb_matrix m(t.x.data(), n, cols);
    auto expected = b.contributions(m);
    std::vector<double> phi(cols + 1);
    double worst = 0;
    for (std::size_t i = 0; i < n; ++i) {
      f.contributions(t.row(i), phi.data());
      for (std::size_t j = 0; j <= cols; ++j)
        worst = std::max(worst, std::abs(phi[j] - expected[i * (cols + 1) + j]));
    }
    CHECK(worst <= 1e-4);
  }
}

TEST_CASE("batch prediction equals row-by-row prediction for any batch length",
          "[unit][forest]") {
  forest_evaluator f = load(train(4, 37, 0.5).save_json());  // 37: not a whole tree group
  const data_set& t = test_rows();
  for (std::size_t n : {0, 1, 15, 64, 65, 200}) {
    std::vector<double> batch(n + 1, -1.0);
    f.predict_batch(t.x.data(), n, batch.data());
    for (std::size_t i = 0; i < n; ++i)
      CHECK(batch[i] == f.predict_probability(t.row(i)));
    CHECK(batch[n] == -1.0);  // nothing written past the end
  }
}

TEST_CASE("unsupported and malformed models are rejected with a reason", "[unit][forest]") {
  auto rejection = [](const std::string& json) {
    std::string error;
    auto f = forest_evaluator::from_xgboost_json(json, &error);
    CHECK_FALSE(f);
    return error;
  };
  CHECK_THAT(rejection(train(2, 2, 0.5, "multi:softprob").save_json()),
             Catch::Contains("objective"));
  CHECK_THAT(rejection(train(2, 2, 0.5, "binary:logitraw").save_json()),
             Catch::Contains("objective"));
  CHECK_THAT(rejection(train(2, 2, 0.5, "binary:logistic", "dart").save_json()),
             Catch::Contains("booster"));
  CHECK_THAT(rejection("{\"learner\": [1, 2"), Catch::Contains("malformed"));
  CHECK_THAT(rejection("{}"), Catch::Contains("malformed"));

  auto doc = nlohmann::json::parse(train(2, 2, 0.5).save_json());
  doc["learner"]["gradient_booster"]["model"]["trees"][1]["split_type"][0] = 1;
  CHECK_THAT(rejection(doc.dump()), Catch::Contains("categorical"));
  doc = nlohmann::json::parse(train(2, 2, 0.5).save_json());
  doc["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 0;
  CHECK_THAT(rejection(doc.dump()), Catch::Contains("invalid child"));
}

TEST_CASE("matches_xgboost passes an equal model and names the gap for a different one",
          "[unit][forest]") {
  const data_set& t = test_rows();
  xgb_booster b = train(6, 20, 0.5);
  double diff = -1;
  std::string error;
  CHECK(matches_xgboost(load(b.save_json()), b, t.x.data(), 512, 1e-6, &diff, &error));
  CHECK(diff >= 0);
  CHECK(diff <= 1e-6);

  forest_evaluator fewer_trees = load(b.slice(0, 10).save_json());
  CHECK_FALSE(matches_xgboost(fewer_trees, b, t.x.data(), 512, 1e-6, &diff, &error));
  CHECK(diff > 1e-3);
  CHECK_THAT(error, Catch::Contains("max |p_forest - p_xgboost|"));
}

TEST_CASE("a sliced booster keeps only the requested rounds", "[unit][forest]") {
  const data_set& t = test_rows();
  xgb_booster b = train(3, 30, 0.5);
  xgb_booster first = b.slice(0, 10);
  CHECK(b.boosted_rounds() == 30);
  CHECK(first.boosted_rounds() == 10);
  CHECK(load(first.save_json()).num_trees() == 10);
  xgb_matrix m(t.x.data(), 100, cols);
  CHECK(first.predict(m) == b.predict(m, 10));
  CHECK_THROWS_AS(b.slice(0, 31), xgboost_error);
}

TEST_CASE("XGBoost failures surface as xgboost_error with XGBoost's message", "[unit][forest]") {
  CHECK_THROWS_AS(xgb_booster::load_json("not a model"), xgboost_error);
  std::vector<float> row(cols, 0.f);
  xgb_booster trained = train(2, 2, 0.5);
  // Two rows of half the model's features, from the same eight floats.
  CHECK_THROWS_WITH(trained.predict_dense(row.data(), 2, cols / 2),
                    Catch::Contains("XGBoosterPredictFromDense") &&
                        Catch::Contains("Check failed"));
}
