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

/// What to do with fields a transaction does not have. A stream record may
/// carry more (a producer newer than this node, or a training `label`); a
/// request to /predict may not (a typo such as "ammount" must not score as a
/// missing amount, and a `label` there would be ignored silently).
enum class unknown_fields { allow, refuse };

/// True when `s` holds a byte below 0x20 or DEL: refused in every id and name
/// (a NUL or newline in an id breaks logs, files and the dashboard).
bool has_control_character(std::string_view s);

/// Validates and converts a parsed JSON object. Collects all field errors.
/// The `label` object is read only under unknown_fields::allow.
parse_result transaction_from_json(const nlohmann::json& j, unknown_fields unknown);

/// Parses text (one JSON object, strictly: duplicate keys are refused) then
/// validates with unknown fields allowed; a syntax error is reported on "$".
parse_result parse_transaction(std::string_view text);

/// Serialises a transaction (and its label when present) as one JSON object.
nlohmann::json to_json(const transaction& tx);
nlohmann::json to_json(const labelled_transaction& ltx);

/// Instants a timestamp may denote: years 0000 to 9999.
constexpr std::int64_t min_timestamp_ms = -62'167'219'200'000;  // 0000-01-01T00:00:00Z
constexpr std::int64_t max_timestamp_ms = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

/// ISO-8601 UTC ("2024-05-01T12:00:00Z", optional fraction ".123" and offset
/// "+02:00") to epoch milliseconds; nullopt when unparsable, not a calendar
/// date (2023-02-29), a leap second (:60), or outside years 0000-9999 after
/// the offset is applied.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);
/// Why an event time may not enter state: more than `max_skew_ms` after
/// `reference_ms` (this server's clock for HTTP, the record's own broker
/// timestamp for the stream, so a replay decides the same). nullopt = fine.
/// One transaction stamped 9999-12-31 would otherwise move its user's and
/// merchant's newest event time there, and every real one after it would
/// count as late, for good.
std::optional<std::string> future_time_error(std::int64_t event_time_ms, std::int64_t reference_ms,
                                             std::int64_t max_skew_ms);

/// Epoch milliseconds to "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_iso8601_ms(std::int64_t ms);

} // namespace vigil::pipeline
