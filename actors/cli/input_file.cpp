#include "actors/cli/input_file.h"

#include "pipeline/schema/transaction_json.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>

namespace vigil::cli {

pipeline::transaction_file read_input_file(const command_line& cl) {
  pipeline::transaction_file_options options;
  if (cl.has("label-delay")) {
    double hours = cl.number("label-delay", 0);
    if (!(hours >= 0 && hours <= 24.0 * 3660))
      throw usage_error("--label-delay must be between 0 and 87840 hours");
    options.label_delay_ms = static_cast<std::int64_t>(hours * 3'600'000.0);
  }
  double max_share = cl.number("max-invalid-share", 0.01);
  if (!(max_share >= 0 && max_share <= 1))
    throw usage_error("--max-invalid-share must be between 0 and 1");
  pipeline::transaction_file file;
  if (cl.has("in")) {
    std::ifstream in(cl.text("in", ""));
    if (!in)
      throw usage_error("cannot open --in file");
    file = pipeline::read_transactions(in, options);
  } else {
    file = pipeline::read_transactions(std::cin, options);
  }
  std::cerr << "read " << file.lines() << " lines: " << file.records.size() << " transactions, "
            << file.rejected.size() << " invalid\n";
  for (std::size_t i = 0; i < file.rejected.size() && i < 5; ++i)
    std::cerr << "  line " << file.rejected[i].line_number << ": " << file.rejected[i].reason << "\n";
  if (file.rejected_share() > max_share) {
    char text[200];
    std::snprintf(text, sizeof text, "%zu of %zu lines are invalid (%.2f%%), more than --max-invalid-share %g",
                  file.rejected.size(), file.lines(), 100.0 * file.rejected_share(), max_share);
    throw usage_error(text);
  }
  return file;
}

std::ostream& output_of(const command_line& cl, std::ofstream& file) {
  if (!cl.has("out"))
    return std::cout;
  file.open(cl.text("out", ""));
  if (!file)
    throw usage_error("cannot open --out file");
  return file;
}

std::int64_t score_from_option(const command_line& cl) {
  if (!cl.has("score-from"))
    return std::numeric_limits<std::int64_t>::min();
  auto from = pipeline::parse_iso8601_ms(cl.text("score-from", ""));
  if (!from)
    throw usage_error("--score-from is not an ISO-8601 timestamp");
  return *from;
}

int version_or_production(const command_line& cl, const std::string& option, const models::model_registry& registry) {
  if (auto version = static_cast<int>(cl.integer(option, 0)); version != 0)
    return version;
  auto production = registry.production();
  if (!production)
    throw usage_error("no production model; pass --" + option);
  return production->version;
}

} // namespace vigil::cli
