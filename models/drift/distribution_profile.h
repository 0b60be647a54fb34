#pragma once
// Distributions of model inputs and outputs, for drift: the reference a model
// was trained on (quantile bins of every feature and of the score, share
// missing, class balance) and the population stability index between that
// reference and what is seen later. Plain C++, no CAF.

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace vigil::models {

/// One variable binned by its reference quantiles. A value v falls in the
/// first bin whose upper edge is >= v (the last bin is open); NaN is counted
/// as missing, apart from the bins.
struct distribution_profile {
  std::vector<double> upper_edges;  ///< bins - 1 strictly increasing edges
  std::vector<double> shares;       ///< per bin, of the non-missing values (sums to 1, or all 0)
  double missing_share = 0;         ///< of all values
  std::size_t values = 0;

  std::size_t bins() const { return upper_edges.size() + 1; }
  /// The bin `v` falls in (v must not be NaN).
  std::size_t bin_of(double v) const;
};

/// Bins `values` (NaN = missing) at their own quantiles: at most `bins` bins;
/// fewer when values repeat (a count that is 0 for most rows gets one bin
/// for 0), so every bin is a distinct range.
distribution_profile profile_reference(const std::vector<double>& values, std::size_t bins);

/// The share of `values` per bin of `reference`, and the share missing.
distribution_profile profile_against(const distribution_profile& reference, const std::vector<double>& values);

/// Population stability index sum_i (a_i - e_i) * ln(a_i / e_i) over the
/// bins, each share floored at `floor` so empty bins stay finite. 0 means
/// the same distribution; above 0.25 is conventionally a large shift.
double population_stability_index(const std::vector<double>& expected, const std::vector<double>& actual,
                                  double floor = 1e-4);

/// What a model version was trained on, written beside it in the registry.
struct reference_profile {
  std::vector<std::string> feature_names;
  std::vector<distribution_profile> features;  ///< one per name
  distribution_profile score;                  ///< the model's probability
  double positive_share = 0;                   ///< class balance of the rows
  std::size_t rows = 0;
};

/// Profiles `n` row-major rows of feature_names.size() floats, the model's
/// probability for each row, and their labels.
reference_profile build_reference_profile(const std::vector<std::string>& feature_names, const float* rows,
                                          std::size_t n, const std::vector<double>& scores,
                                          const std::vector<float>& labels, std::size_t bins = 10);

nlohmann::json to_json(const distribution_profile& p);
nlohmann::json to_json(const reference_profile& p);
/// Throws std::runtime_error naming what is wrong.
distribution_profile distribution_from_json(const nlohmann::json& j);
reference_profile reference_from_json(const nlohmann::json& j);

} // namespace vigil::models
