#pragma once
// Converting a CSV file of transactions into Vigil's labelled JSON-lines
// format (`vigil import`): a header row, a mapping from Vigil's fields to
// its columns, one record per line.

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::pipeline {

/// One CSV line split into fields (RFC 4180 quoting: a quoted field may hold
/// the separator, a quote inside is doubled; no line breaks inside quotes).
/// nullopt when a quote does not close or text follows a closing quote.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line, char separator = ',');

/// Vigil's fields a column can fill. Required: transaction_id, user_id,
/// amount, merchant_id, timestamp, and currency unless a default is given.
const std::vector<std::string>& importable_fields();

struct csv_mapping {
  std::map<std::string, std::size_t> columns;  ///< Vigil field -> column index
  std::string default_currency;                ///< for every row when currency is not mapped
};

/// Reads "field=COLUMN,field=COLUMN" against the header. Throws
/// std::invalid_argument naming an unknown field, a column the header does
/// not have, or a required field left unmapped.
csv_mapping map_columns(const std::vector<std::string>& header, const std::string& spec,
                        const std::string& default_currency);

/// A time as found in CSV files: ISO-8601 with a zone; "YYYY-MM-DD HH:MM:SS[.fff]"
/// without one (read as UTC); or a Unix time in seconds (below 1e11) or
/// milliseconds. Milliseconds since the epoch, or nullopt.
std::optional<std::int64_t> parse_csv_time(std::string_view text);

/// One row as a record of the labelled-file format (checked afterwards by
/// the record parser), or the reason it cannot be one ("column: reason").
struct imported_row {
  std::optional<nlohmann::json> record;
  std::string problem;
};
imported_row import_row(const std::vector<std::string>& fields, const csv_mapping& mapping);

} // namespace vigil::pipeline
