#include "models/forest_evaluator.h"

#include "models/xgboost_handle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace vigil::models {


namespace {

using json = nlohmann::json;

// Thrown inside this file only; from_xgboost_json turns it into *error.
struct model_rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t block_rows = 64;       // rows whose extended copies stay in L1
constexpr std::size_t stack_features = 256;  // larger rows are extended on the heap

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

// For a mirrored node: -v >= mirrored_threshold(t) exactly when v < t, and
// never for NaN. Nothing is < -inf, so that split compares against NaN.
float mirrored_threshold(float t) {
  return t == -INFINITY ? std::nanf("") : std::nextafter(-t, INFINITY);
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
    const double features = number_param(params, "num_feature");
    if (!(features >= 1 && features <= 1e8))
      throw model_rejected("num_feature out of range");
    // 1.7 keeps base_score in probability space for binary:logistic; the
    // margin offset is computed in float exactly as XGBoost's ProbToMargin.
    const float base_score = static_cast<float>(number_param(params, "base_score"));
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
    std::vector<std::uint32_t> depths;
    for (std::size_t t = 0; t < trees.size(); ++t)
      depths.push_back(add_tree(f, trees[t], t));
    f.num_trees_ = trees.size();
    // Pad to whole groups with a tree that is one leaf of value 0 (x + 0.0f == x).
    const auto zero_leaf = static_cast<std::uint32_t>(f.nodes_.size());
    f.nodes_.push_back({0.0f, nan_slot(f), zero_leaf});
    f.cover_fractions_.push_back(1);
    f.mean_values_.push_back(0);
    while (f.roots_.size() % forest_evaluator::group_size != 0) {
      f.roots_.push_back(zero_leaf);
      depths.push_back(0);
    }
    for (std::size_t g = 0; g < depths.size(); g += forest_evaluator::group_size)
      f.group_depth_.push_back(
          *std::max_element(depths.begin() + g, depths.begin() + g + forest_evaluator::group_size));
    return f;
  }

 private:
  using node = forest_evaluator::node;

  static std::uint32_t nan_slot(const forest_evaluator& f) {
    return static_cast<std::uint32_t>(2 * f.num_features_);
  }

  // Appends one tree; returns its depth.
  static std::uint32_t add_tree(forest_evaluator& f, const json& tree, std::size_t tree_no) {
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
    const auto features = static_cast<long long>(f.num_features_);
    std::vector<long long> order{0};
    std::vector<std::uint32_t> depth{0};
    std::vector<char> seen(n, 0);
    std::vector<float> covers;  ///< per new node (index - base): sum_hessian
    seen[0] = 1;
    std::uint32_t max_depth = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto old = static_cast<std::size_t>(order[k]);
      const auto first_child = base + static_cast<std::uint32_t>(order.size());
      if (left[old] == -1) {
        // XGBoost keeps a leaf's value in split_conditions.
        f.nodes_.push_back({threshold[old], nan_slot(f), base + static_cast<std::uint32_t>(k)});
        max_depth = std::max(max_depth, depth[k]);
      } else {
        for (long long child : {left[old], right[old]}) {
          if (child < 0 || child >= static_cast<long long>(n) || seen[child])
            throw where("node " + std::to_string(old) + " has an invalid child");
          seen[child] = 1;
        }
        if (split_type[old] != 0)
          throw where("categorical splits are not supported");
        if (feature[old] < 0 || feature[old] >= features)
          throw where("split feature out of range");
        if (default_left[old]) {
          f.nodes_.push_back({threshold[old], std::uint32_t(feature[old]), first_child});
          order.insert(order.end(), {left[old], right[old]});
        } else {
          f.nodes_.push_back({mirrored_threshold(threshold[old]),
                              std::uint32_t(features + feature[old]), first_child});
          order.insert(order.end(), {right[old], left[old]});
        }
        depth.insert(depth.end(), 2, depth[k] + 1);
      }
      covers.push_back(cover[old]);
    }
    // Children follow parents, so one backward pass computes each subtree's
    // cover-weighted mean leaf value (TreeSHAP's expected values).
    f.mean_values_.resize(f.nodes_.size());
    f.cover_fractions_.resize(f.nodes_.size());
    f.cover_fractions_[base] = 1;
    for (std::size_t i = f.nodes_.size(); i-- > base;) {
      const std::uint32_t l = f.nodes_[i].left, r = l + 1;
      if (l == i) {
        f.mean_values_[i] = double(f.nodes_[i].threshold);
        continue;
      }
      const double cover = covers[i - base], cover_l = covers[l - base], cover_r = covers[r - base];
      f.mean_values_[i] = (f.mean_values_[l] * cover_l + f.mean_values_[r] * cover_r) / cover;
      f.cover_fractions_[l] = cover_l / cover;
      f.cover_fractions_[r] = cover_r / cover;
    }
    f.roots_.push_back(base);
    f.max_depth_ = std::max(f.max_depth_, max_depth);
    return max_depth;
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

// Walks a group of trees on one extended row in lockstep, so that their
// dependent loads overlap, then adds the leaves to `margin` in tree order.
// `depth` steps reach every leaf since leaves loop onto themselves.
template <typename Node, std::size_t... K>
[[gnu::always_inline]] inline float walk_group(const Node* nodes, const std::uint32_t* roots,
                                               std::uint32_t depth, const float* x, float margin,
                                               std::index_sequence<K...>) {
  std::uint32_t at[] = {roots[K]...};
  for (std::uint32_t d = 0; d < depth; ++d)
    ((at[K] = nodes[at[K]].left +
              static_cast<std::uint32_t>(x[nodes[at[K]].feature] >= nodes[at[K]].threshold)),
     ...);
  ((margin += nodes[at[K]].threshold), ...);
  return margin;
}

} // namespace

void forest_evaluator::extend_row(const float* row, float* extended) const {
  for (std::size_t j = 0; j < num_features_; ++j) {
    extended[j] = row[j];
    extended[num_features_ + j] = -row[j];
  }
  extended[2 * num_features_] = std::nanf("");
}

float forest_evaluator::add_leaves(const float* extended, float margin) const {
  const node* nodes = nodes_.data();
  for (std::size_t g = 0; g < group_depth_.size(); ++g)
    margin = walk_group(nodes, &roots_[g * group_size], group_depth_[g], extended, margin,
                        std::make_index_sequence<group_size>{});
  return margin;
}

double forest_evaluator::predict_margin(const float* row) const {
  float on_stack[2 * stack_features + 1];
  std::vector<float> on_heap;
  float* extended = on_stack;
  if (num_features_ > stack_features) {
    on_heap.resize(2 * num_features_ + 1);
    extended = on_heap.data();
  }
  extend_row(row, extended);
  return add_leaves(extended, base_margin_);
}

double forest_evaluator::predict_probability(const float* row) const {
  return sigmoid(predict_margin(row));
}

void forest_evaluator::predict_batch(const float* rows, std::size_t n_rows,
                                     double* out_probabilities) const {
  const std::size_t width = 2 * num_features_ + 1;
  std::vector<float> extended(std::min(n_rows, block_rows) * width);
  const node* nodes = nodes_.data();
  float margins[block_rows];
  for (std::size_t begin = 0; begin < n_rows; begin += block_rows) {
    const std::size_t n = std::min(block_rows, n_rows - begin);
    for (std::size_t k = 0; k < n; ++k) {
      extend_row(rows + (begin + k) * num_features_, &extended[k * width]);
      margins[k] = base_margin_;
    }
    // Group-major inside the block: a group's nodes stay in L1 across its rows.
    for (std::size_t g = 0; g < group_depth_.size(); ++g)
      for (std::size_t k = 0; k < n; ++k)
        margins[k] = walk_group(nodes, &roots_[g * group_size], group_depth_[g],
                                &extended[k * width], margins[k],
                                std::make_index_sequence<group_size>{});
    for (std::size_t k = 0; k < n; ++k)
      out_probabilities[begin + k] = sigmoid(margins[k]);
  }
}

} // namespace vigil::models
