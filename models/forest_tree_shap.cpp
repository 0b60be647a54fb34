// Exact path-dependent TreeSHAP in time linear in the tree's size, over the
// flattened forest: per-feature contributions in margin space, using node
// covers (XGBoost's sum_hessian). Checked against XGBoost's pred_contribs.
//
// For a leaf of value v whose path has the unique features U, each with a
// zero fraction z_j (the product of its edges' cover fractions) and a one
// fraction o_j (1 if the row follows all its edges, else 0), the leaf adds to
// feature i (Lundberg et al. 2018)
//   v (o_i - z_i) sum over S of U \ {i} of |S|! (|U| - |S| - 1)! / |U|!
//                                         prod_{j in S} o_j prod_{j not in S} z_j.
// The Shapley weight is the Beta integral of t^|S| (1 - t)^(|U| - |S| - 1)
// over [0, 1], so the sum is the integral of
//   P(t) / f_i(t),   P(t) = prod_{j in U} f_j(t),   f_j(t) = (1 - t) z_j + t o_j,
// a polynomial of degree below |U|, which Gauss-Legendre quadrature with
// ceil(depth / 2) points integrates exactly (the idea of Linear TreeShap, Yu
// et al. 2022). One walk carries P at the quadrature points down each path
// and sums v P over the leaves below each edge on the way back up; an edge
// of feature i adds (o_i - z_i) / f_i times the sums of the leaves below it
// where i does not occur again (deeper occurrences are subtracted: they
// answer for their own leaves with their combined fractions). So every edge
// costs O(depth) instead of every leaf O(depth^2). vigil_forest_bench, depth
// 6: 3.5-4.1x the speed of XGBoost's pred_contribs in the same run, where
// the per-leaf algorithm (Lundberg et al., Algorithm 2) reached 1.4-1.6x.

#include "models/forest_evaluator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace vigil::models {

namespace {

/// Gauss-Legendre points and weights on [0, 1] for 1..max_points points.
struct gauss_legendre {
  static constexpr std::size_t max_points = 64;
  double point[max_points + 1][max_points];
  double complement[max_points + 1][max_points];  ///< 1 - point
  double weight[max_points + 1][max_points];
  gauss_legendre() {
    for (std::size_t n = 1; n <= max_points; ++n)
      for (std::size_t i = 0; i < n; ++i) {
        // Newton's method on the Legendre polynomial P_n from Tricomi's guess.
        double x = std::cos(M_PI * (double(i) + 0.75) / (double(n) + 0.5)), slope = 1;
        for (int iteration = 0; iteration < 100; ++iteration) {
          double p0 = 1, p1 = x;
          for (std::size_t j = 2; j <= n; ++j) {
            const double p2 = ((2.0 * double(j) - 1) * x * p1 - (double(j) - 1) * p0) / double(j);
            p0 = p1;
            p1 = p2;
          }
          slope = n == 1 ? 1 : double(n) * (x * p1 - p0) / (x * x - 1);
          const double step = p1 / slope;
          x -= step;
          if (std::abs(step) < 1e-16)
            break;
        }
        point[n][i] = (1 - x) / 2;  // [-1, 1] -> [0, 1]
        complement[n][i] = (1 + x) / 2;
        weight[n][i] = 1 / ((1 - x * x) * slope * slope);
      }
  }
};

const gauss_legendre& quadrature() {
  static const gauss_legendre table;
  return table;
}

} // namespace

/// Scratch of one contributions() call: the quadrature, the fractions of
/// every feature on the current path, and per feature the sums reported by
/// its deeper occurrences.
struct forest_evaluator::shap_walk {
  const float* row;
  double* phi;
  std::size_t points;
  const double* t;  ///< quadrature points
  const double* u;  ///< 1 - t
  const double* w;  ///< quadrature weights
  std::vector<double> zero, one;  ///< per feature, on the current path (1, 1: absent)
  std::vector<double> deeper;     ///< per feature x point
  std::vector<double> frames;     ///< per depth: rest, child product, child sums, saved deeper
};

template <std::size_t N>
void forest_evaluator::shap_visit(shap_walk& s, std::uint32_t index, const double* product, double* sums,
                                  double* frame) const {
  const std::size_t n = N ? N : s.points;  // a fixed N lets the loops unroll
  const node& nd = nodes_[index];
  if (nd.left == index) {  // a leaf
    for (std::size_t k = 0; k < n; ++k)
      sums[k] = double(nd.threshold) * product[k];
    return;
  }
  for (std::size_t k = 0; k < n; ++k)
    sums[k] = 0;
  // Undo the mirroring to find the column and the child this row follows.
  const bool mirrored = nd.feature >= num_features_;
  const std::size_t feature = mirrored ? nd.feature - num_features_ : nd.feature;
  const float v = mirrored ? -s.row[feature] : s.row[feature];
  const std::uint32_t hot = nd.left + static_cast<std::uint32_t>(v >= nd.threshold);
  const double zero_before = s.zero[feature], one_before = s.one[feature];
  // The product without this feature's factor so far (1 when it is new).
  const double* rest = product;
  if (!(zero_before == 1 && one_before == 1)) {
    for (std::size_t k = 0; k < n; ++k)
      frame[k] = product[k] / (s.u[k] * zero_before + s.t[k] * one_before);
    rest = frame;
  }
  double* child_product = frame + n;
  double* child_sums = frame + 2 * n;
  double* saved = frame + 3 * n;
  double* deeper = &s.deeper[feature * n];
  const double parent_cover = covers_[index];
  for (std::uint32_t child : {nd.left, nd.left + 1}) {
    const double zero = zero_before * (covers_[child] / parent_cover);
    const double one = child == hot ? one_before : 0.0;
    if (zero == 0 && one == 0)
      continue;  // every leaf below weighs nothing
    double integral = 0;
    if (nodes_[child].left == child) {  // a leaf: its sum is its value times the product
      const double value = nodes_[child].threshold;
      for (std::size_t k = 0; k < n; ++k) {
        const double f = s.u[k] * zero + s.t[k] * one;
        const double leaf_sum = value * rest[k] * f;
        integral += s.w[k] * value * rest[k];  // leaf_sum / f
        deeper[k] += leaf_sum;
        sums[k] += leaf_sum;
      }
    } else {
      double inverse_f[N ? N : gauss_legendre::max_points];
      for (std::size_t k = 0; k < n; ++k) {
        const double f = s.u[k] * zero + s.t[k] * one;
        child_product[k] = rest[k] * f;
        inverse_f[k] = 1 / f;
        saved[k] = deeper[k];
        deeper[k] = 0;
      }
      s.zero[feature] = zero;
      s.one[feature] = one;
      shap_visit<N>(s, child, child_product, child_sums, frame + 4 * n);
      for (std::size_t k = 0; k < n; ++k) {
        integral += s.w[k] * (child_sums[k] - deeper[k]) * inverse_f[k];
        deeper[k] = saved[k] + child_sums[k];  // this occurrence answers to the one above
        sums[k] += child_sums[k];
      }
    }
    s.phi[feature] += (one - zero) * integral;
  }
  s.zero[feature] = zero_before;
  s.one[feature] = one_before;
}

template <std::size_t N>
void forest_evaluator::shap_trees(shap_walk& s) const {
  double ones[gauss_legendre::max_points], sums[gauss_legendre::max_points];
  std::fill(ones, ones + s.points, 1.0);
  for (std::size_t t = 0; t < num_trees_; ++t) {
    s.phi[num_features_] += mean_values_[roots_[t]];
    shap_visit<N>(s, roots_[t], ones, sums, s.frames.data());
  }
}

void forest_evaluator::contributions(const float* row, double* out) const {
  std::fill(out, out + num_features_ + 1, 0.0);
  // The integrand's degree is below the number of unique features on a
  // path, at most the depth: ceil(depth / 2) points integrate it exactly.
  const std::size_t points = std::max<std::size_t>(1, (max_depth_ + 1) / 2);
  if (points > gauss_legendre::max_points)
    throw std::runtime_error("TreeSHAP supports trees up to depth " +
                             std::to_string(2 * gauss_legendre::max_points));
  const auto& q = quadrature();
  shap_walk s{row, out, points, q.point[points], q.complement[points], q.weight[points],
              std::vector<double>(num_features_, 1.0), std::vector<double>(num_features_, 1.0),
              std::vector<double>(num_features_ * points, 0.0),
              std::vector<double>((max_depth_ + 1) * 4 * points, 0.0)};
  switch (points) {
    case 1: shap_trees<1>(s); break;
    case 2: shap_trees<2>(s); break;
    case 3: shap_trees<3>(s); break;
    case 4: shap_trees<4>(s); break;
    case 5: shap_trees<5>(s); break;
    case 6: shap_trees<6>(s); break;
    default: shap_trees<0>(s); break;
  }
  out[num_features_] += base_margin_;
}

} // namespace vigil::models
