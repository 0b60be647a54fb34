#pragma once
// RAII wrappers over the XGBoost 1.7 C API. Every return code is checked; a
// failure throws xgboost_error carrying XGBGetLastError(). Both classes are
// move-only. Thread count is never forced: callers set "nthread" themselves.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::models {

/// A failed XGBoost call; what() names the call and quotes XGBGetLastError().
struct xgboost_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Owns a DMatrixHandle.
class xgb_matrix {
 public:
  /// Copies `rows` x `cols` row-major floats; NaN means missing.
  /// Throws xgboost_error.
  xgb_matrix(const float* data, std::size_t rows, std::size_t cols);
  ~xgb_matrix();
  xgb_matrix(xgb_matrix&& other) noexcept;
  xgb_matrix& operator=(xgb_matrix&& other) noexcept;
  xgb_matrix(const xgb_matrix&) = delete;
  xgb_matrix& operator=(const xgb_matrix&) = delete;

  /// One label per row. Throws xgboost_error (e.g. on a size mismatch).
  void set_labels(const std::vector<float>& labels);
  /// One instance weight per row. Throws xgboost_error.
  void set_weights(const std::vector<float>& weights);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  /// The DMatrixHandle; null after a move.
  void* handle() const { return handle_; }

 private:
  void* handle_ = nullptr;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
};

/// Owns a BoosterHandle.
class xgb_booster {
 public:
  /// A fresh booster caching the given matrices (they may be freed first:
  /// XGBoost holds its own references). Throws xgboost_error.
  explicit xgb_booster(const std::vector<const xgb_matrix*>& cache = {});
  ~xgb_booster();
  xgb_booster(xgb_booster&& other) noexcept;
  xgb_booster& operator=(xgb_booster&& other) noexcept;
  xgb_booster(const xgb_booster&) = delete;
  xgb_booster& operator=(const xgb_booster&) = delete;

  /// Throws xgboost_error for a rejected parameter.
  void set_param(const std::string& name, const std::string& value);
  /// One boosting round on `train` (which needs labels). Throws xgboost_error.
  void update_one_iter(int iteration, const xgb_matrix& train);

  /// Transformed predictions (probabilities for binary:logistic), one per row.
  /// iteration_end = 0 uses every tree, else rounds [0, iteration_end).
  /// Throws xgboost_error.
  std::vector<float> predict(const xgb_matrix& m, int iteration_end = 0) const;
  /// In-place prediction on `n_rows` x `n_cols` row-major floats (NaN = missing);
  /// probabilities, or margins (log-odds) when `margin`. Throws xgboost_error.
  std::vector<float> predict_dense(const float* rows, std::size_t n_rows, std::size_t n_cols,
                                   bool margin = false, int iteration_end = 0) const;
  /// Exact SHAP values in margin space: rows() x (cols() + 1), row-major, the
  /// last column of each row is the bias. Throws xgboost_error.
  std::vector<float> contributions(const xgb_matrix& m) const;

  /// The model as XGBoost JSON. Throws xgboost_error.
  std::string save_json() const;
  /// A booster loaded from XGBoost JSON. Throws xgboost_error.
  static xgb_booster load_json(const std::string& json);
  /// A new booster with boosting rounds [begin_layer, end_layer); end 0 means
  /// all. Throws xgboost_error, also when the range is out of bounds.
  xgb_booster slice(int begin_layer, int end_layer) const;
  /// Boosting rounds done so far. Throws xgboost_error.
  int boosted_rounds() const;
  /// The BoosterHandle; null after a move.
  void* handle() const { return handle_; }

 private:
  struct adopt_tag {};
  xgb_booster(adopt_tag, void* handle) : handle_(handle) {}
  std::vector<float> predict_with(const xgb_matrix& m, int type, int iteration_end) const;

  void* handle_ = nullptr;
};

} // namespace vigil::models
