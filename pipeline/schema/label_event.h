#pragma once
// A fraud label arriving as feedback (/feedback, topic fraud_labels).

#include "pipeline/schema/transaction_json.h"

#include <cstdint>
#include <string>

namespace vigil::pipeline {

struct label_event {
  std::string transaction_id;
  bool is_fraud = false;
  std::string source;              ///< "chargeback", "analyst", ... ("" = unknown)
  std::int64_t label_time_ms = 0;  ///< when the label became known
};

/// Validates {"transaction_id", "is_fraud", "source"?, "label_time"?};
/// `now_ms` fills a missing label_time. Errors name each bad field.
struct label_parse_result {
  std::optional<label_event> value;
  std::vector<field_error> errors;
};
label_parse_result label_from_json(const nlohmann::json& j, std::int64_t now_ms);
nlohmann::json to_json(const label_event& l);

} // namespace vigil::pipeline
