#pragma once
// Reading JSON-lines transaction files (simulator output, batch scoring).

#include "pipeline/schema/transaction_json.h"

#include <istream>
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
};

/// Reads every line of `in`; blank lines are skipped.
transaction_file read_transactions(std::istream& in);

} // namespace vigil::pipeline
