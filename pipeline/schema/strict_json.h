#pragma once
// Strict JSON text -> DOM for everything that enters state or config:
// duplicate object keys and nesting deeper than a bound are refused (the
// lenient parser keeps the last duplicate, so `amount` 1 then 99999999 would
// score 99999999 while a log or proxy that keeps the first saw 1).

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil::pipeline {

/// Deepest nesting of objects and arrays accepted.
constexpr std::size_t max_json_depth = 32;

struct strict_json_result {
  bool ok = false;
  /// When refused: where ("amount", "[2].merchant.id", "$" for the text
  /// itself) and why ("duplicate key", "malformed JSON at byte 17").
  std::string field;
  std::string reason;
};

/// Parses `text` into `out`. On refusal `out` is left null.
strict_json_result parse_strict_json(std::string_view text, nlohmann::json& out);

} // namespace vigil::pipeline
