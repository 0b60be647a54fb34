#include "models/drift/distribution_profile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vigil::models {

std::size_t distribution_profile::bin_of(double v) const {
  return static_cast<std::size_t>(std::lower_bound(upper_edges.begin(), upper_edges.end(), v) - upper_edges.begin());
}

distribution_profile profile_reference(const std::vector<double>& values, std::size_t bins) {
  std::vector<double> present;
  present.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v))
      present.push_back(v);
  std::sort(present.begin(), present.end());
  distribution_profile p;
  // Upper edges at the 1/bins, 2/bins, ... quantiles; a repeated value
  // closes one bin only.
  for (std::size_t b = 1; b < bins && !present.empty(); ++b) {
    double edge = present[std::min(present.size() - 1, b * present.size() / bins)];
    if (edge >= present.back())
      break;  // nothing would fall above it
    if (p.upper_edges.empty() || edge > p.upper_edges.back())
      p.upper_edges.push_back(edge);
  }
  return profile_against(p, values);
}

distribution_profile profile_against(const distribution_profile& reference, const std::vector<double>& values) {
  distribution_profile p;
  p.upper_edges = reference.upper_edges;
  p.shares.assign(p.bins(), 0.0);
  std::size_t missing = 0;
  for (double v : values) {
    if (std::isnan(v))
      ++missing;
    else
      p.shares[p.bin_of(v)] += 1;
  }
  const std::size_t present = values.size() - missing;
  for (auto& s : p.shares)
    s = present ? s / static_cast<double>(present) : 0.0;
  p.values = values.size();
  p.missing_share = values.empty() ? 0.0 : static_cast<double>(missing) / static_cast<double>(values.size());
  return p;
}

double population_stability_index(const std::vector<double>& expected, const std::vector<double>& actual,
                                  double floor) {
  if (expected.size() != actual.size())
    throw std::invalid_argument("PSI needs the same bins on both sides");
  double psi = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double e = std::max(expected[i], floor), a = std::max(actual[i], floor);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

reference_profile build_reference_profile(const std::vector<std::string>& feature_names, const float* rows,
                                          std::size_t n, const std::vector<double>& scores,
                                          const std::vector<float>& labels, std::size_t bins) {
  if (scores.size() != n || labels.size() != n)
    throw std::invalid_argument("a reference profile needs one score and one label per row");
  reference_profile p;
  p.feature_names = feature_names;
  p.rows = n;
  const std::size_t width = feature_names.size();
  std::vector<double> column(n);
  for (std::size_t f = 0; f < width; ++f) {
    for (std::size_t r = 0; r < n; ++r)
      column[r] = rows[r * width + f];
    p.features.push_back(profile_reference(column, bins));
  }
  p.score = profile_reference(scores, bins);
  double positives = 0;
  for (float l : labels)
    positives += l > 0.5f ? 1 : 0;
  p.positive_share = n ? positives / static_cast<double>(n) : 0.0;
  return p;
}

nlohmann::json to_json(const distribution_profile& p) {
  return {{"upper_edges", p.upper_edges}, {"shares", p.shares}, {"missing_share", p.missing_share},
          {"values", p.values}};
}

nlohmann::json to_json(const reference_profile& p) {
  nlohmann::json features = nlohmann::json::object();
  for (std::size_t i = 0; i < p.features.size(); ++i)
    features[p.feature_names[i]] = to_json(p.features[i]);
  return {{"rows", p.rows}, {"positive_share", p.positive_share}, {"score", to_json(p.score)},
          {"features", features}};
}

distribution_profile distribution_from_json(const nlohmann::json& j) {
  distribution_profile p;
  try {
    p.upper_edges = j.at("upper_edges").get<std::vector<double>>();
    p.shares = j.at("shares").get<std::vector<double>>();
    p.missing_share = j.at("missing_share").get<double>();
    p.values = j.at("values").get<std::size_t>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("distribution profile: ") + e.what());
  }
  if (p.shares.size() != p.bins() || !std::is_sorted(p.upper_edges.begin(), p.upper_edges.end()))
    throw std::runtime_error("distribution profile: shares do not match its bins");
  return p;
}

reference_profile reference_from_json(const nlohmann::json& j) {
  reference_profile p;
  try {
    p.rows = j.at("rows").get<std::size_t>();
    p.positive_share = j.at("positive_share").get<double>();
    p.score = distribution_from_json(j.at("score"));
    for (const auto& [name, profile] : j.at("features").items()) {
      p.feature_names.push_back(name);
      p.features.push_back(distribution_from_json(profile));
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("reference profile: ") + e.what());
  }
  return p;
}

} // namespace vigil::models
