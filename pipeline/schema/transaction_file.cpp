#include "pipeline/schema/transaction_file.h"

namespace vigil::pipeline {

transaction_file read_transactions(std::istream& in) {
  transaction_file out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto parsed = parse_transaction(line);
    if (parsed.ok())
      out.records.push_back(std::move(*parsed.value));
    else
      out.rejected.push_back({number, parsed.message()});
  }
  return out;
}

} // namespace vigil::pipeline
