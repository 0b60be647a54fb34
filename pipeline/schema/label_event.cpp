#include "pipeline/schema/label_event.h"

#include <nlohmann/json.hpp>

namespace vigil::pipeline {

label_parse_result label_from_json(const nlohmann::json& j, std::int64_t now_ms) {
  label_parse_result r;
  if (!j.is_object()) {
    r.errors.push_back({"$", "must be a JSON object"});
    return r;
  }
  label_event l;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "transaction_id" && it.key() != "is_fraud" && it.key() != "source" &&
        it.key() != "label_time")
      r.errors.push_back({it.key(), "unknown field"});
  auto id = j.find("transaction_id");
  if (id == j.end())
    r.errors.push_back({"transaction_id", "missing"});
  else if (!id->is_string() || id->get_ref<const std::string&>().empty())
    r.errors.push_back({"transaction_id", "must be a non-empty string"});
  else if (id->get_ref<const std::string&>().size() > max_id_bytes)
    r.errors.push_back({"transaction_id", "longer than 128 bytes"});
  else if (has_control_character(id->get_ref<const std::string&>()))
    r.errors.push_back({"transaction_id", "must not contain control characters"});
  else
    l.transaction_id = id->get<std::string>();
  auto fraud = j.find("is_fraud");
  if (fraud == j.end())
    r.errors.push_back({"is_fraud", "missing"});
  else if (!fraud->is_boolean())
    r.errors.push_back({"is_fraud", "must be a boolean"});
  else
    l.is_fraud = fraud->get<bool>();
  auto source = j.find("source");
  if (source != j.end() && !source->is_null()) {
    if (!source->is_string() || source->get_ref<const std::string&>().size() > max_id_bytes ||
        has_control_character(source->get_ref<const std::string&>()))
      r.errors.push_back({"source", "must be a string of at most 128 bytes without control characters"});
    else
      l.source = source->get<std::string>();
  }
  l.label_time_ms = now_ms;
  auto time = j.find("label_time");
  if (time != j.end() && !time->is_null()) {
    std::optional<std::int64_t> ms;
    if (time->is_string())
      ms = parse_iso8601_ms(time->get<std::string>());
    if (!ms)
      r.errors.push_back({"label_time", "not an ISO-8601 timestamp with zone"});
    else
      l.label_time_ms = *ms;
  }
  if (r.errors.empty())
    r.value = l;
  return r;
}

nlohmann::json to_json(const label_event& l) {
  return {{"transaction_id", l.transaction_id}, {"is_fraud", l.is_fraud},
          {"source", l.source}, {"label_time", format_iso8601_ms(l.label_time_ms)}};
}

} // namespace vigil::pipeline
