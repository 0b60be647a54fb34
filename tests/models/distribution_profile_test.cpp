#include "models/drift/distribution_profile.h"
#include "pipeline/features/feature_schema.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

using namespace vigil::models;

namespace {

std::vector<double> uniform_values(std::size_t n, double low, double high, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(low, high);
  std::vector<double> out(n);
  for (auto& v : out)
    v = u(rng);
  return out;
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

} // namespace

TEST_CASE("reference bins are the values' own quantiles", "[unit][drift]") {
  std::vector<double> values(1000);
  std::iota(values.begin(), values.end(), 0.0);
  auto p = profile_reference(values, 10);
  REQUIRE(p.bins() == 10);
  for (double s : p.shares)
    CHECK(s == Approx(0.1).margin(0.002));
  CHECK(p.missing_share == 0);
  CHECK(population_stability_index(p.shares, profile_against(p, values).shares) == 0);
}

TEST_CASE("repeated values close one bin, missing values are counted apart", "[unit][drift]") {
  std::vector<double> values(800, 0.0);  // a count that is 0 for most rows
  for (int i = 0; i < 200; ++i)
    values.push_back(1 + i);
  for (int i = 0; i < 250; ++i)
    values.push_back(std::nan(""));
  auto p = profile_reference(values, 10);
  CHECK(p.upper_edges.front() == 0);
  CHECK(p.shares.front() == Approx(0.8));
  CHECK(std::is_sorted(p.upper_edges.begin(), p.upper_edges.end()));
  CHECK(std::adjacent_find(p.upper_edges.begin(), p.upper_edges.end()) == p.upper_edges.end());
  CHECK(p.shares.back() > 0);  // no empty bin above the largest value
  CHECK(sum(p.shares) == Approx(1));
  CHECK(p.missing_share == Approx(0.2));
  auto constant = profile_reference(std::vector<double>(100, 7.0), 10);
  CHECK(constant.bins() == 1);
}

TEST_CASE("PSI: near zero for another sample of the same distribution, large for a shift", "[unit][drift]") {
  auto reference = profile_reference(uniform_values(20'000, 0, 100, 1), 10);
  auto same = profile_against(reference, uniform_values(20'000, 0, 100, 2));
  auto shifted = profile_against(reference, uniform_values(20'000, 30, 130, 3));
  CHECK(population_stability_index(reference.shares, same.shares) < 0.01);
  CHECK(population_stability_index(reference.shares, shifted.shares) > 0.25);
  CHECK_THROWS(population_stability_index({0.5, 0.5}, {1.0}));
}

TEST_CASE("a reference profile round-trips through JSON", "[unit][drift]") {
  std::vector<float> rows = {1, 0, 2, 0, 3, 1, 4, std::nanf("")};
  auto p = build_reference_profile({"a", "b"}, rows.data(), 4, {0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 0}, 4);
  CHECK(p.positive_share == 0.25);
  CHECK(p.features[1].missing_share == 0.25);
  auto back = reference_from_json(nlohmann::json::parse(to_json(p).dump()));
  CHECK(back.rows == 4);
  CHECK(back.feature_names == std::vector<std::string>{"a", "b"});
  CHECK(back.features[0].upper_edges == p.features[0].upper_edges);
  CHECK(back.features[0].shares == p.features[0].shares);
  CHECK(back.score.shares == p.score.shares);
  CHECK_THROWS_WITH(distribution_from_json({{"upper_edges", {1.0}}, {"shares", {1.0}}, {"missing_share", 0},
                                            {"values", 1}}),
                    Catch::Contains("do not match"));
}

TEST_CASE("a trained model is registered with the profile of its training slice", "[integration][drift]") {
  auto dir = vigil::testing::trained_registry() / "v1";
  std::ifstream in(dir / "reference_profile.json");
  REQUIRE(in);
  auto p = reference_from_json(nlohmann::json::parse(in));
  CHECK(p.rows > 1000);
  CHECK(p.feature_names.size() == vigil::pipeline::feature_count);
  CHECK(p.positive_share > 0);
  CHECK(p.positive_share < 0.5);
  CHECK(sum(p.score.shares) == Approx(1));
  CHECK(p.score.bins() > 5);  // probabilities spread over the bins
  for (const auto& f : p.features)
    CHECK((sum(f.shares) == Approx(1) || f.missing_share == 1));
}
