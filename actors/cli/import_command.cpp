#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "actors/cli/input_file.h"
#include "pipeline/schema/csv_import.h"
#include "pipeline/schema/transaction_json.h"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace vigil::cli {
namespace {

constexpr const char* help = R"(usage: vigil import --csv FILE --map FIELD=COLUMN,... [options]
Converts a CSV file (header row first) into Vigil's labelled JSON lines, the
format `vigil train`, `vigil score`, `vigil evaluate` and `vigil run --replay`
read. Every record is checked as the stream checks it.

  --csv FILE            the CSV file
  --map SPEC            FIELD=COLUMN pairs, comma-separated. Fields: transaction_id,
                        user_id, amount, merchant_id and timestamp (required);
                        currency, merchant_category, merchant_name, country, lat, lon,
                        device_id, channel, is_fraud, label_time, pattern
  --currency CODE       currency of every row when none is mapped (e.g. EUR)
  --separator C         field separator (default ,)
  --out FILE            JSON lines (default: stdout)
  --max-invalid-share F stop when more than this share of rows is invalid (default 0.01)
Times: ISO-8601 with a zone; "YYYY-MM-DD HH:MM:SS" without one (read as
UTC); or Unix seconds (milliseconds from 1e11 on). is_fraud: 1/0,
true/false, yes/no. A label without label_time is written without one:
give `--label-delay` to train, score or evaluate with it.
)";

} // namespace

int import_command(const arguments& args) {
  command_line cl(args, {"csv", "map", "currency", "separator", "out", "max-invalid-share"}, {"help"});
  if (cl.has("help")) {
    std::cout << help;
    return 0;
  }
  if (!cl.has("csv") || !cl.has("map"))
    throw usage_error("--csv and --map are required (see --help)");
  auto separator = cl.text("separator", ",");
  if (separator.size() != 1)
    throw usage_error("--separator must be one character");
  double max_share = cl.number("max-invalid-share", 0.01);
  if (!(max_share >= 0 && max_share <= 1))
    throw usage_error("--max-invalid-share must be between 0 and 1");
  std::ifstream in(cl.text("csv", ""));
  if (!in)
    throw usage_error("cannot open --csv file");
  std::string line;
  if (!std::getline(in, line))
    throw usage_error("the CSV file is empty");
  auto header = pipeline::split_csv_line(line, separator[0]);
  if (!header)
    throw usage_error("the header row has an unclosed quote");
  pipeline::csv_mapping mapping;
  try {
    mapping = pipeline::map_columns(*header, cl.text("map", ""), cl.text("currency", ""));
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }

  std::ofstream out_file;
  std::ostream* out = &output_of(cl, out_file);
  std::size_t number = 1, rows = 0, written = 0, shown = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    ++rows;
    std::string problem;
    if (auto fields = pipeline::split_csv_line(line, separator[0]); !fields) {
      problem = "unclosed quote";
    } else if (auto row = pipeline::import_row(*fields, mapping); !row.record) {
      problem = row.problem;
    } else {
      auto text = row.record->dump();
      auto checked = pipeline::parse_transaction(text);  // the stream's own rules
      if (checked.ok()) {
        *out << text << '\n';
        ++written;
        continue;
      }
      problem = checked.message();
    }
    if (shown++ < 5)
      std::cerr << "  line " << number << ": " << problem << "\n";
  }
  out->flush();
  std::size_t invalid = rows - written;
  std::cerr << "imported " << written << " of " << rows << " rows, " << invalid << " invalid\n";
  if (rows > 0 && double(invalid) / double(rows) > max_share) {
    if (cl.has("out")) {  // no half-converted file is left to be mistaken for the data
      out_file.close();
      std::remove(cl.text("out", "").c_str());
    }
    char text[160];
    std::snprintf(text, sizeof text, "%zu of %zu rows are invalid, more than --max-invalid-share %g", invalid, rows,
                  max_share);
    throw usage_error(text);
  }
  return 0;
}

} // namespace vigil::cli
