// The load-time check that the forest evaluator equals XGBoost.

#include "models/forest_evaluator.h"

#include "models/xgboost_handle.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vigil::models {

bool matches_xgboost(const forest_evaluator& f, const xgb_booster& b, const float* rows,
                     std::size_t n_rows, double tolerance, double* max_abs_diff,
                     std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error)
      *error = why;
    return false;
  };
  std::vector<float> expected;
  try {
    expected = b.predict_dense(rows, n_rows, f.num_features());
  } catch (const xgboost_error& e) {
    return fail(e.what());
  }
  if (expected.size() != n_rows)
    return fail("XGBoost returned " + std::to_string(expected.size()) + " predictions for " +
                std::to_string(n_rows) + " rows");
  std::vector<double> batch(n_rows);
  f.predict_batch(rows, n_rows, batch.data());
  double worst = 0;
  std::size_t worst_row = 0;
  for (std::size_t i = 0; i < n_rows; ++i) {
    const double single = f.predict_probability(rows + i * f.num_features());
    const double diff = std::max(std::abs(batch[i] - expected[i]), std::abs(single - expected[i]));
    if (!(diff <= worst)) {  // NaN counts as the worst
      worst = std::isnan(diff) ? INFINITY : diff;
      worst_row = i;
    }
  }
  if (max_abs_diff)
    *max_abs_diff = worst;
  if (worst > tolerance) {
    char why[160];
    std::snprintf(why, sizeof why,
                  "max |p_forest - p_xgboost| = %.3g at row %zu, over tolerance %.3g", worst,
                  worst_row, tolerance);
    return fail(why);
  }
  return true;
}

} // namespace vigil::models
