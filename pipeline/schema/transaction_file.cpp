#include "pipeline/schema/transaction_file.h"

namespace vigil::pipeline {
namespace {

/// Why the record's label cannot be used as it is, or "" (fills in a
/// missing label time from the stated delay).
std::string label_time_problem(labelled_transaction& record, const transaction_file_options& options) {
  if (!record.label)
    return {};
  auto& label = *record.label;
  if (label.label_time_ms == label_time_unknown) {
    if (!options.label_delay_ms)
      return "label.label_time: missing (give each label the time it became known, or state a "
             "delay with --label-delay)";
    label.label_time_ms = record.tx.event_time_ms + *options.label_delay_ms;
  }
  if (label.label_time_ms < record.tx.event_time_ms)
    return "label.label_time: before the transaction's timestamp";
  return {};
}

} // namespace

transaction_file read_transactions(std::istream& in, const transaction_file_options& options) {
  transaction_file out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto parsed = parse_transaction(line);
    if (!parsed.ok()) {
      out.rejected.push_back({number, parsed.message()});
      continue;
    }
    if (auto problem = label_time_problem(*parsed.value, options); !problem.empty()) {
      out.rejected.push_back({number, std::move(problem)});
      continue;
    }
    out.records.push_back(std::move(*parsed.value));
  }
  return out;
}

} // namespace vigil::pipeline
