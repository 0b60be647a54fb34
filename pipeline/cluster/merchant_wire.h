#pragma once
// What crosses nodes for merchant state, and what a merchant shard's log in
// Redis holds: a list of merchant updates in a compact binary form
// (little-endian, versioned, bounded on decode), and the merchant features
// that come back. Plain C++.

#include "pipeline/features/feature_schema.h"
#include "pipeline/stream/work_item.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cluster {

/// One thing a merchant shard is asked to do.
struct merchant_update {
  enum class kind : std::uint8_t {
    apply = 0,  ///< features from the state before it, then fold it in
    read = 1,   ///< features only (/predict without update)
    label = 2,  ///< a label for one of the merchant's transactions (/feedback)
  };
  kind what = kind::apply;
  std::int32_t partition = pipeline::no_partition;  ///< input partition, or none (HTTP, labels)
  std::int64_t offset = 0;
  std::int64_t event_time_ms = 0;
  double amount = 0;
  std::string merchant_id;
  std::string user_id;
  std::optional<pipeline::travelling_label> label;  ///< apply: a replayed file's; label: the label itself
};

/// The merchant part of a work item (apply when `update`, else read).
merchant_update merchant_update_of(const pipeline::work_item& item, bool update);
/// A work item carrying what merchant features and state need of `u`.
pipeline::work_item work_item_of(const merchant_update& u);

/// Updates in one request, and in one log entry, at most.
constexpr std::size_t max_merchant_updates = 65'536;

std::string encode_merchant_updates(const std::vector<merchant_update>& updates);
/// nullopt on a bad version, truncation, trailing bytes, an unknown kind or
/// a count or id length beyond its bound.
std::optional<std::vector<merchant_update>> decode_merchant_updates(std::string_view bytes);

/// The merchant features, contiguous in the feature vector: a merchant
/// shard answers this many floats per apply or read update, none per label.
constexpr int first_merchant_feature = static_cast<int>(pipeline::feature::merchant_count_1h);
constexpr int merchant_feature_count =
  static_cast<int>(pipeline::feature::merchant_frauds_30d) - first_merchant_feature + 1;

/// Copies the merchant features of `from` to the end of `out`.
void append_merchant_features(const pipeline::feature_vector& from, std::vector<float>& out);
/// Sets the merchant features of `to` from `at`.
void take_merchant_features(const float* at, pipeline::feature_vector& to);

} // namespace vigil::cluster
