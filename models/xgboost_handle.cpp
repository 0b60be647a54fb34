#include "models/xgboost_handle.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <utility>

namespace vigil::models {
namespace {

void check(int rc, const char* call) {
  if (rc != 0)
    throw xgboost_error(std::string(call) + " failed: " + XGBGetLastError());
}

// Copies a prediction buffer out before the next call on the booster reuses it.
std::vector<float> copy_result(const bst_ulong* shape, bst_ulong dim, const float* result) {
  std::size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i)
    n *= static_cast<std::size_t>(shape[i]);
  return {result, result + n};
}

std::string predict_config(int type, int iteration_end) {
  return "{\"type\": " + std::to_string(type) +
         ", \"training\": false, \"iteration_begin\": 0, \"iteration_end\": " +
         std::to_string(iteration_end) + ", \"strict_shape\": false" +
         ", \"missing\": NaN, \"cache_id\": 0}";
}

} // namespace

xgb_matrix::xgb_matrix(const float* data, std::size_t rows, std::size_t cols)
    : rows_(rows), cols_(cols) {
  DMatrixHandle h = nullptr;
  check(XGDMatrixCreateFromMat(data, rows, cols, std::nanf(""), &h), "XGDMatrixCreateFromMat");
  handle_ = h;
}

xgb_matrix::~xgb_matrix() {
  if (handle_)
    XGDMatrixFree(handle_);
}

xgb_matrix::xgb_matrix(xgb_matrix&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), rows_(other.rows_), cols_(other.cols_) {}

xgb_matrix& xgb_matrix::operator=(xgb_matrix&& other) noexcept {
  if (this != &other) {
    if (handle_)
      XGDMatrixFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    rows_ = other.rows_;
    cols_ = other.cols_;
  }
  return *this;
}

void xgb_matrix::set_labels(const std::vector<float>& labels) {
  check(XGDMatrixSetFloatInfo(handle_, "label", labels.data(), labels.size()),
        "XGDMatrixSetFloatInfo(label)");
}

void xgb_matrix::set_weights(const std::vector<float>& weights) {
  check(XGDMatrixSetFloatInfo(handle_, "weight", weights.data(), weights.size()),
        "XGDMatrixSetFloatInfo(weight)");
}

xgb_booster::xgb_booster(const std::vector<const xgb_matrix*>& cache) {
  std::vector<DMatrixHandle> handles;
  for (const auto* m : cache)
    handles.push_back(m->handle());
  BoosterHandle h = nullptr;
  check(XGBoosterCreate(handles.data(), handles.size(), &h), "XGBoosterCreate");
  handle_ = h;
}

xgb_booster::~xgb_booster() {
  if (handle_)
    XGBoosterFree(handle_);
}

xgb_booster::xgb_booster(xgb_booster&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}

xgb_booster& xgb_booster::operator=(xgb_booster&& other) noexcept {
  if (this != &other) {
    if (handle_)
      XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void xgb_booster::set_param(const std::string& name, const std::string& value) {
  check(XGBoosterSetParam(handle_, name.c_str(), value.c_str()), "XGBoosterSetParam");
}

void xgb_booster::update_one_iter(int iteration, const xgb_matrix& train) {
  check(XGBoosterUpdateOneIter(handle_, iteration, train.handle()), "XGBoosterUpdateOneIter");
}

std::vector<float> xgb_booster::predict_with(const xgb_matrix& m, int type,
                                             int iteration_end) const {
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  const std::string config = predict_config(type, iteration_end);
  check(XGBoosterPredictFromDMatrix(handle_, m.handle(), config.c_str(), &shape, &dim, &result),
        "XGBoosterPredictFromDMatrix");
  return copy_result(shape, dim, result);
}

std::vector<float> xgb_booster::predict(const xgb_matrix& m, int iteration_end) const {
  return predict_with(m, 0, iteration_end);
}

std::vector<float> xgb_booster::contributions(const xgb_matrix& m) const {
  return predict_with(m, 2, 0);
}

std::vector<float> xgb_booster::predict_dense(const float* rows, std::size_t n_rows,
                                              std::size_t n_cols, bool margin,
                                              int iteration_end) const {
  // __array_interface__ (version 3) describing the caller's buffer; no copy.
  std::string array = "{\"data\": [" +
                      std::to_string(reinterpret_cast<std::uintptr_t>(rows)) +
                      ", true], \"shape\": [" + std::to_string(n_rows) + ", " +
                      std::to_string(n_cols) + "], \"typestr\": \"<f4\", \"version\": 3}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  check(XGBoosterPredictFromDense(handle_, array.c_str(),
                                  predict_config(margin ? 1 : 0, iteration_end).c_str(), nullptr,
                                  &shape, &dim, &result),
        "XGBoosterPredictFromDense");
  return copy_result(shape, dim, result);
}

std::string xgb_booster::save_json() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  check(XGBoosterSaveModelToBuffer(handle_, "{\"format\": \"json\"}", &len, &data),
        "XGBoosterSaveModelToBuffer");
  return {data, static_cast<std::size_t>(len)};
}

xgb_booster xgb_booster::load_json(const std::string& json) {
  xgb_booster b;
  check(XGBoosterLoadModelFromBuffer(b.handle_, json.data(), json.size()),
        "XGBoosterLoadModelFromBuffer");
  return b;
}

xgb_booster xgb_booster::slice(int begin_layer, int end_layer) const {
  auto out_of_bounds = [&] {
    return xgboost_error("XGBoosterSlice: rounds [" + std::to_string(begin_layer) + ", " +
                         std::to_string(end_layer) + ") out of bounds");
  };
  // Checked here too: XGBoost 1.7 leaks the sliced learner when it returns -2.
  const int rounds = boosted_rounds();
  if (begin_layer < 0 || end_layer < 0 || end_layer > rounds ||
      begin_layer >= (end_layer == 0 ? rounds : end_layer))
    throw out_of_bounds();
  BoosterHandle out = nullptr;
  const int rc = XGBoosterSlice(handle_, begin_layer, end_layer, 1, &out);
  if (rc == -2)
    throw out_of_bounds();
  check(rc, "XGBoosterSlice");
  return xgb_booster(adopt_tag{}, out);
}

int xgb_booster::boosted_rounds() const {
  int rounds = 0;
  check(XGBoosterBoostedRounds(handle_, &rounds), "XGBoosterBoostedRounds");
  return rounds;
}

} // namespace vigil::models
