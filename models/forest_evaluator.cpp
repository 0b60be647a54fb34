#include "models/forest_evaluator.h"

#include "models/xgboost_handle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace vigil::models {

/// One element of the TreeSHAP unique path (Lundberg et al., Algorithm 2).
struct shap_path_element {
  int feature = -1;
  double zero_fraction = 0;
  double one_fraction = 0;
  double pweight = 0;
};

namespace {

using json = nlohmann::json;

// Thrown inside this file only; from_xgboost_json turns it into *error.
struct model_rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t block_rows = 64;  // rows whose margins stay in L1 per tree pass
constexpr std::size_t lanes = 8;        // rows walked in lockstep for ILP

// XGBoost 1.7 stores learner parameters as strings ("5E-1", "30").
double number_param(const json& params, const char* name) {
  const auto& text = params.at(name).get_ref<const std::string&>();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw model_rejected(std::string("learner_model_param.") + name + " is not a number: " + text);
  return value;
}

double sigmoid(double margin) { return 1.0 / (1.0 + std::exp(-margin)); }

void extend_path(shap_path_element* path, unsigned depth, double zero_fraction,
                 double one_fraction, int feature) {
  path[depth] = {feature, zero_fraction, one_fraction, depth == 0 ? 1.0 : 0.0};
  for (int i = int(depth) - 1; i >= 0; --i) {
    path[i + 1].pweight += one_fraction * path[i].pweight * (i + 1) / (depth + 1.0);
    path[i].pweight = zero_fraction * path[i].pweight * (depth - i) / (depth + 1.0);
  }
}

void unwind_path(shap_path_element* path, unsigned depth, unsigned index) {
  const double one = path[index].one_fraction, zero = path[index].zero_fraction;
  double next_one_portion = path[depth].pweight;
  for (int i = int(depth) - 1; i >= 0; --i) {
    if (one != 0) {
      const double tmp = path[i].pweight;
      path[i].pweight = next_one_portion * (depth + 1) / ((i + 1) * one);
      next_one_portion = tmp - path[i].pweight * zero * (depth - i) / (depth + 1.0);
    } else {
      path[i].pweight = path[i].pweight * (depth + 1) / (zero * (depth - i));
    }
  }
  for (unsigned i = index; i < depth; ++i) {
    path[i].feature = path[i + 1].feature;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

// The total permutation weight if path[index] were unwound from the path.
double unwound_path_sum(const shap_path_element* path, unsigned depth, unsigned index) {
  const double one = path[index].one_fraction, zero = path[index].zero_fraction;
  double next_one_portion = path[depth].pweight, total = 0;
  for (int i = int(depth) - 1; i >= 0; --i) {
    if (one != 0) {
      const double tmp = next_one_portion * (depth + 1) / ((i + 1) * one);
      total += tmp;
      next_one_portion = path[i].pweight - tmp * zero * (depth - i) / (depth + 1.0);
    } else if (zero != 0) {
      total += path[i].pweight / zero / ((depth - i) / (depth + 1.0));
    }
  }
  return total;
}

} // namespace

// Flattens parsed XGBoost trees into a forest_evaluator.
class forest_builder {
 public:
  static forest_evaluator build(const json& doc) {
    const json& learner = doc.at("learner");
    const auto& objective = learner.at("objective").at("name").get_ref<const std::string&>();
    if (objective != "binary:logistic")
      throw model_rejected("unsupported objective '" + objective + "' (only binary:logistic)");
    const json& booster = learner.at("gradient_booster");
    const auto& booster_name = booster.at("name").get_ref<const std::string&>();
    if (booster_name != "gbtree")
      throw model_rejected("unsupported booster '" + booster_name + "' (only gbtree)");
    const json& params = learner.at("learner_model_param");
    if (number_param(params, "num_class") > 1 ||
        (params.contains("num_target") && number_param(params, "num_target") > 1))
      throw model_rejected("multi-class and multi-target models are not supported");
    double features = number_param(params, "num_feature");
    if (!(features >= 1 && features <= forest_evaluator::feature_mask))
      throw model_rejected("num_feature out of range");
    // 1.7 keeps base_score in probability space for binary:logistic; the
    // margin offset is computed in float exactly as XGBoost's ProbToMargin.
    float base_score = static_cast<float>(number_param(params, "base_score"));
    if (!(base_score > 0 && base_score < 1))
      throw model_rejected("base_score must lie in (0, 1) for binary:logistic");

    forest_evaluator f;
    f.num_features_ = static_cast<std::size_t>(features);
    f.base_margin_ = -std::log(1.0f / base_score - 1.0f);
    const json& model = booster.at("model");
    for (const auto& group : model.at("tree_info"))
      if (group.get<int>() != 0)
        throw model_rejected("tree_info names an output group other than 0");
    const json& trees = model.at("trees");
    for (std::size_t t = 0; t < trees.size(); ++t)
      add_tree(f, trees[t], t);
    return f;
  }

 private:
  using node = forest_evaluator::node;

  static void add_tree(forest_evaluator& f, const json& tree, std::size_t tree_no) {
    auto where = [&](const std::string& what) {
      return model_rejected("tree " + std::to_string(tree_no) + ": " + what);
    };
    auto left = tree.at("left_children").get<std::vector<long long>>();
    auto right = tree.at("right_children").get<std::vector<long long>>();
    auto feature = tree.at("split_indices").get<std::vector<long long>>();
    auto threshold = tree.at("split_conditions").get<std::vector<float>>();
    auto default_left = tree.at("default_left").get<std::vector<int>>();
    auto cover = tree.at("sum_hessian").get<std::vector<float>>();
    auto split_type = tree.value("split_type", std::vector<int>(left.size(), 0));
    const std::size_t n = left.size();
    if (n == 0 || right.size() != n || feature.size() != n || threshold.size() != n ||
        default_left.size() != n || cover.size() != n || split_type.size() != n)
      throw where("node arrays are empty or of different lengths");
    if (!tree.value("categories_nodes", json::array()).empty())
      throw where("categorical splits are not supported");

    // Breadth-first renumbering: both children of a node are appended together,
    // so right = left + 1. Unreachable (deleted) nodes are dropped.
    const auto base = static_cast<std::uint32_t>(f.nodes_.size());
    std::vector<long long> order{0};
    std::vector<std::uint32_t> depth{0};
    std::vector<char> seen(n, 0);
    seen[0] = 1;
    std::uint32_t max_depth = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto old = static_cast<std::size_t>(order[k]);
      node out;
      if (left[old] == -1) {
        out.threshold = threshold[old];  // XGBoost keeps the leaf value here
        out.feature_and_flags = forest_evaluator::leaf_bit;
        out.left = base + static_cast<std::uint32_t>(k);
        max_depth = std::max(max_depth, depth[k]);
      } else {
        for (long long child : {left[old], right[old]}) {
          if (child < 0 || child >= static_cast<long long>(n) || seen[child])
            throw where("node " + std::to_string(old) + " has an invalid child");
          seen[child] = 1;
        }
        if (split_type[old] != 0)
          throw where("categorical splits are not supported");
        if (feature[old] < 0 || feature[old] >= static_cast<long long>(f.num_features_))
          throw where("split feature out of range");
        out.threshold = threshold[old];
        out.feature_and_flags = static_cast<std::uint32_t>(feature[old]) |
                                (default_left[old] ? 0u : forest_evaluator::missing_right_bit);
        out.left = base + static_cast<std::uint32_t>(order.size());
        order.insert(order.end(), {left[old], right[old]});
        depth.insert(depth.end(), 2, depth[k] + 1);
      }
      f.nodes_.push_back(out);
      f.covers_.push_back(cover[old]);
    }
    // Children follow parents in breadth-first order, so one backward pass
    // computes each subtree's cover-weighted mean leaf value.
    f.mean_values_.resize(f.nodes_.size());
    for (std::size_t i = f.nodes_.size(); i-- > base;) {
      const node& nd = f.nodes_[i];
      if (nd.feature_and_flags & forest_evaluator::leaf_bit) {
        f.mean_values_[i] = nd.threshold;
      } else {
        const std::uint32_t l = nd.left, r = nd.left + 1;
        f.mean_values_[i] = (f.mean_values_[l] * f.covers_[l] + f.mean_values_[r] * f.covers_[r]) /
                            f.covers_[i];
      }
    }
    f.trees_.push_back({base, max_depth});
    f.max_depth_ = std::max(f.max_depth_, max_depth);
  }
};

std::optional<forest_evaluator> forest_evaluator::from_xgboost_json(const std::string& text,
                                                                    std::string* error) {
  try {
    return forest_builder::build(json::parse(text));
  } catch (const json::exception& e) {
    if (error)
      *error = std::string("malformed XGBoost JSON: ") + e.what();
  } catch (const model_rejected& e) {
    if (error)
      *error = e.what();
  }
  return std::nullopt;
}

namespace {

// One step down a tree, without branches: a NaN takes the default direction,
// anything else goes right iff !(value < threshold); a leaf stays put.
template <typename Node>
inline std::uint32_t next_node(const Node& n, const float* row, std::uint32_t feature_mask) {
  const std::uint32_t flags = n.feature_and_flags;
  const float v = row[flags & feature_mask];
  const std::uint32_t go_right =
      static_cast<std::uint32_t>(v >= n.threshold) |
      (static_cast<std::uint32_t>(v != v) & ((flags >> 30) & 1u));
  return n.left + (go_right & ((flags >> 31) ^ 1u));
}

} // namespace

float forest_evaluator::leaf_of(const tree_ref& t, const float* row) const {
  const node* nodes = nodes_.data();
  std::uint32_t i = t.root;
  for (std::uint32_t d = 0; d < t.depth; ++d)
    i = next_node(nodes[i], row, feature_mask);
  return nodes[i].threshold;
}

double forest_evaluator::predict_margin(const float* row) const {
  float margin = base_margin_;  // float, in tree order: the same sum XGBoost makes
  for (const tree_ref& t : trees_)
    margin += leaf_of(t, row);
  return margin;
}

double forest_evaluator::predict_probability(const float* row) const {
  return sigmoid(predict_margin(row));
}

void forest_evaluator::block_margins(const float* rows, std::size_t n_rows,
                                     float* margins) const {
  const node* nodes = nodes_.data();
  const std::size_t stride = num_features_;
  std::fill(margins, margins + n_rows, base_margin_);
  for (const tree_ref& t : trees_) {
    std::size_t r = 0;
    for (; r + lanes <= n_rows; r += lanes) {
      std::uint32_t at[lanes];
      std::fill(at, at + lanes, t.root);
      for (std::uint32_t d = 0; d < t.depth; ++d)
        for (std::size_t k = 0; k < lanes; ++k)
          at[k] = next_node(nodes[at[k]], rows + (r + k) * stride, feature_mask);
      for (std::size_t k = 0; k < lanes; ++k)
        margins[r + k] += nodes[at[k]].threshold;
    }
    for (; r < n_rows; ++r)
      margins[r] += leaf_of(t, rows + r * stride);
  }
}

void forest_evaluator::predict_batch(const float* rows, std::size_t n_rows,
                                     double* out_probabilities) const {
  float margins[block_rows];
  for (std::size_t begin = 0; begin < n_rows; begin += block_rows) {
    const std::size_t n = std::min(block_rows, n_rows - begin);
    block_margins(rows + begin * num_features_, n, margins);
    for (std::size_t k = 0; k < n; ++k)
      out_probabilities[begin + k] = sigmoid(margins[k]);
  }
}

void forest_evaluator::tree_shap(std::uint32_t index, const float* row, double* phi,
                                 shap_path_element* parent_path, unsigned unique_depth,
                                 double parent_zero_fraction, double parent_one_fraction,
                                 int parent_feature) const {
  shap_path_element* path = parent_path + unique_depth + 1;
  std::copy(parent_path, parent_path + unique_depth + 1, path);
  extend_path(path, unique_depth, parent_zero_fraction, parent_one_fraction, parent_feature);
  const node& n = nodes_[index];
  if (n.feature_and_flags & leaf_bit) {
    for (unsigned i = 1; i <= unique_depth; ++i) {
      const double w = unwound_path_sum(path, unique_depth, i);
      phi[path[i].feature] += w * (path[i].one_fraction - path[i].zero_fraction) * n.threshold;
    }
    return;
  }
  const int feature = static_cast<int>(n.feature_and_flags & feature_mask);
  const float v = row[feature];
  const bool go_right = std::isnan(v) ? (n.feature_and_flags & missing_right_bit) != 0
                                      : !(v < n.threshold);
  const std::uint32_t hot = n.left + go_right, cold = n.left + !go_right;
  const double hot_zero_fraction = covers_[hot] / double(covers_[index]);
  const double cold_zero_fraction = covers_[cold] / double(covers_[index]);
  double incoming_zero = 1, incoming_one = 1;
  // A feature met again higher up is unwound, then re-extended with both splits.
  unsigned k = 0;
  while (k <= unique_depth && path[k].feature != feature)
    ++k;
  if (k <= unique_depth) {
    incoming_zero = path[k].zero_fraction;
    incoming_one = path[k].one_fraction;
    unwind_path(path, unique_depth, k);
    --unique_depth;
  }
  tree_shap(hot, row, phi, path, unique_depth + 1, hot_zero_fraction * incoming_zero,
            incoming_one, feature);
  tree_shap(cold, row, phi, path, unique_depth + 1, cold_zero_fraction * incoming_zero, 0,
            feature);
}

void forest_evaluator::contributions(const float* row, double* out) const {
  std::fill(out, out + num_features_ + 1, 0.0);
  const std::size_t d = max_depth_;
  std::vector<shap_path_element> path((d + 2) * (d + 3) / 2);
  for (const tree_ref& t : trees_) {
    out[num_features_] += mean_values_[t.root];
    tree_shap(t.root, row, out, path.data(), 0, 1, 1, -1);
  }
  out[num_features_] += base_margin_;
}

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
  if (worst > tolerance)
    return fail("max |p_forest - p_xgboost| = " + std::to_string(worst) + " at row " +
                std::to_string(worst_row) + ", over tolerance " + std::to_string(tolerance));
  return true;
}

} // namespace vigil::models
