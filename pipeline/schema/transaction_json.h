#pragma once
// JSON <-> transaction, with validation that names every bad field.

#include "pipeline/schema/transaction.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace vigil::pipeline {

/// One validation failure: the JSON field and what is wrong with it.
struct field_error {
  std::string field;   ///< e.g. "amount", "location.lat"
  std::string reason;  ///< e.g. "missing", "must be a number", "negative"
};

/// Outcome of parsing one record: a transaction, or every field error found.
struct parse_result {
  std::optional<labelled_transaction> value;
  std::vector<field_error> errors;
  bool ok() const { return value.has_value(); }
  /// All errors as one line, "field: reason; field: reason".
  std::string message() const;
};

/// Size limits on string fields, in bytes.
constexpr std::size_t max_id_bytes = 128;
constexpr std::size_t max_name_bytes = 256;

/// Validates and converts a parsed JSON object. Collects all field errors.
parse_result transaction_from_json(const nlohmann::json& j);

/// Parses text (one JSON object) then validates; a syntax error is reported
/// on the field "$".
parse_result parse_transaction(std::string_view text);

/// Serialises a transaction (and its label when present) as one JSON object.
nlohmann::json to_json(const transaction& tx);
nlohmann::json to_json(const labelled_transaction& ltx);

/// ISO-8601 UTC ("2024-05-01T12:00:00Z", optional fraction ".123" and offset
/// "+02:00") to epoch milliseconds; nullopt when unparsable.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);
/// Epoch milliseconds to "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_iso8601_ms(std::int64_t ms);

} // namespace vigil::pipeline
