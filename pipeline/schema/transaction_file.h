#pragma once
// Reading JSON-lines transaction files (simulator output, training and
// batch scoring input). The labelled-file format is in README ("Bring your
// own data").

#include "pipeline/schema/transaction_json.h"

#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace vigil::pipeline {

struct rejected_line {
  std::size_t line_number;  ///< 1-based
  std::string reason;       ///< field errors, "field: reason; ..."
};

struct transaction_file {
  std::vector<labelled_transaction> records;
  std::vector<rejected_line> rejected;  ///< bad lines are kept here, not dropped silently
  std::size_t lines() const { return records.size() + rejected.size(); }
  /// Share of non-blank lines refused (0 for an empty file).
  double rejected_share() const { return lines() ? double(rejected.size()) / double(lines()) : 0.0; }
};

struct transaction_file_options {
  /// A label read without `label_time` becomes known this long after its
  /// transaction. Unset: such a line is refused, because a label assumed
  /// known at once leaks into the features of the transactions after it.
  std::optional<std::int64_t> label_delay_ms;
};

/// Reads every line of `in`; blank lines are skipped. Besides the record's
/// own rules, a label must not be known before its transaction.
transaction_file read_transactions(std::istream& in, const transaction_file_options& options = {});

} // namespace vigil::pipeline
