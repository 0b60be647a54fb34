#pragma once
// A flattened evaluator for XGBoost 1.7 binary:logistic gbtree models.
// All trees live in one contiguous array of 12-byte nodes, renumbered
// breadth-first so that a node's right child is its left child + 1, and are
// walked sixteen at a time without branches. Margins are accumulated in float
// in XGBoost's order (base margin, then trees in order), so they equal
// XGBoost's own margins bit for bit.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil::models {

class xgb_booster;

class forest_evaluator {
 public:
  /// An empty forest: no features, no trees, margin 0 (probability 0.5).
  forest_evaluator() = default;

  /// Parses the JSON written by XGBoost 1.7 (xgb_booster::save_json). Returns
  /// std::nullopt and sets *error (if non-null) for malformed JSON, an
  /// objective other than binary:logistic, a booster other than gbtree,
  /// multi-class/multi-target models, categorical splits, or a corrupt tree.
  static std::optional<forest_evaluator> from_xgboost_json(const std::string& json,
                                                           std::string* error);

  /// Columns a row must have (the model's num_feature).
  std::size_t num_features() const { return num_features_; }
  std::size_t num_trees() const { return num_trees_; }
  /// The margin (log-odds) added before any tree: logit(base_score).
  double base_margin() const { return base_margin_; }

  /// Margin (log-odds) of one row of num_features() floats; NaN = missing.
  /// Allocates nothing for models of up to 256 features.
  double predict_margin(const float* row) const;
  /// sigmoid(predict_margin(row)), in [0, 1].
  double predict_probability(const float* row) const;
  /// Probabilities of `n_rows` row-major rows of num_features() floats into
  /// out_probabilities[0, n_rows). Evaluates blocks of 64 rows, tree-major
  /// inside a block; allocates one block buffer per call.
  void predict_batch(const float* rows, std::size_t n_rows, double* out_probabilities) const;
  /// Exact path-dependent TreeSHAP (Lundberg et al.; covers are XGBoost's
  /// sum_hessian) in margin space, in time linear in the trees' size. Writes
  /// num_features() + 1 values to `out`; the last is the bias (expected
  /// margin). They sum to the margin. Allocates its scratch per call.
  void contributions(const float* row, double* out) const;

 private:
  friend class forest_builder;

  /// A node reads slot `feature` of the row extended to [x, -x, NaN] (2F + 1
  /// floats) and goes right iff slot >= threshold. Nodes whose missing values
  /// go right are stored mirrored (children swapped, slot F + f holding -x_f,
  /// threshold the next float above -split_condition), so NaN, comparing
  /// false, always takes the stored left child. A leaf reads the NaN slot,
  /// keeps its value in `threshold` and has left = itself: walking past a
  /// leaf is harmless, so walks need no branches.
  struct node {
    float threshold = 0;
    std::uint32_t feature = 0;  ///< slot in the extended row
    std::uint32_t left = 0;     ///< absolute index; right child is left + 1
  };
  /// Trees walked together; 16 measured best of 4..32 (x86-64, 16 registers).
  static constexpr std::size_t group_size = 16;

  void extend_row(const float* row, float* extended) const;
  float add_leaves(const float* extended, float margin) const;
  /// TreeSHAP's walk (forest_tree_shap.cpp): the quadrature points in packs
  /// of four lanes, Packs fixed at compile time, or 0 for any number.
  struct shap_walk;
  template <std::size_t Packs, typename Lanes>
  void shap_visit(shap_walk& walk, std::uint32_t index, const Lanes* product, Lanes* sums,
                  Lanes* frame) const;
  template <std::size_t Packs>
  void shap_trees(shap_walk& walk) const;

  std::vector<node> nodes_;
  std::vector<std::uint32_t> roots_;        ///< padded to whole groups with a zero leaf
  std::vector<std::uint32_t> group_depth_;  ///< per group: its deepest tree's depth
  std::vector<double> cover_fractions_;     ///< per node: its cover / its parent's (roots 1)
  std::vector<double> mean_values_;         ///< per node: cover-weighted mean leaf below it
  std::size_t num_features_ = 0;
  std::size_t num_trees_ = 0;
  std::uint32_t max_depth_ = 0;
  float base_margin_ = 0;
};

/// Checks `f` against XGBoost's in-place prediction with `b` on `n_rows`
/// row-major rows of f.num_features() floats, through both predict_batch and
/// predict_probability. Writes the largest |p_forest - p_xgboost| to
/// *max_abs_diff (if non-null). Returns false and sets *error (if non-null)
/// when it exceeds `tolerance` or XGBoost fails.
bool matches_xgboost(const forest_evaluator& f, const xgb_booster& b, const float* rows,
                     std::size_t n_rows, double tolerance, double* max_abs_diff,
                     std::string* error);

} // namespace vigil::models
