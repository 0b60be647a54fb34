#include "actors/pipeline/decision_json.h"

#include "pipeline/features/recent_set.h"
#include "pipeline/schema/transaction_json.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace vigil::actors {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string feature_snapshot_id(const pipeline::feature_vector& features) {
  auto h = pipeline::stable_hash(reinterpret_cast<const char*>(features.data()),
                                 features.size() * sizeof(float));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json decision_to_json(const decision_record& d, bool with_features) {
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto& r : d.reasons)
    reasons.push_back({{"feature", r.feature},
                       {"value", std::isnan(r.value) ? nlohmann::json(nullptr) : nlohmann::json(r.value)},
                       {"contribution", r.contribution}});
  nlohmann::json j{{"transaction_id", d.transaction_id},
                   {"user_id", d.user_id},
                   {"merchant_id", d.merchant_id},
                   {"event_time", pipeline::format_iso8601_ms(d.event_time_ms)},
                   {"probability", d.probability},
                   {"decision", models::to_string(d.decision)},
                   {"reasons", reasons},
                   {"model_version", d.model_version},
                   {"feature_snapshot_id", feature_snapshot_id(d.features)},
                   {"latency_us", d.latency_us}};
  if (d.shadow)
    j["shadow"] = true;
  if (d.source_time_ms)
    j["source_time_ms"] = d.source_time_ms;
  if (with_features) {
    nlohmann::json values = nlohmann::json::object();
    const auto& names = pipeline::feature_names();
    for (std::size_t i = 0; i < d.features.size(); ++i)
      values[names[i]] = std::isnan(d.features[i]) ? nlohmann::json(nullptr)
                                                   : nlohmann::json(d.features[i]);
    j["features"] = values;
  }
  return j;
}

std::optional<decision_record> decision_from_json(const nlohmann::json& j) {
  if (!j.is_object())
    return std::nullopt;
  auto text = [&](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto features = j.find("features");
  auto probability = j.find("probability");
  auto version = j.find("model_version");
  const auto* event_time = text("event_time");
  if (!text("transaction_id") || !text("user_id") || !text("merchant_id") || !event_time ||
      features == j.end() || !features->is_object() || probability == j.end() ||
      !probability->is_number() || version == j.end() || !version->is_number_integer())
    return std::nullopt;
  decision_record d;
  d.transaction_id = *text("transaction_id");
  d.user_id = *text("user_id");
  d.merchant_id = *text("merchant_id");
  auto ms = pipeline::parse_iso8601_ms(*event_time);
  if (!ms)
    return std::nullopt;
  d.event_time_ms = *ms;
  d.probability = probability->get<double>();
  d.model_version = version->get<int>();
  const auto& names = pipeline::feature_names();
  for (std::size_t i = 0; i < d.features.size(); ++i) {
    auto value = features->find(names[i]);
    if (value == features->end() || !(value->is_number() || value->is_null()))
      return std::nullopt;
    d.features[i] = value->is_null() ? std::numeric_limits<float>::quiet_NaN() : value->get<float>();
  }
  return d;
}

} // namespace vigil::actors
