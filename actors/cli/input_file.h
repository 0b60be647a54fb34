#pragma once
// The labelled input of `vigil train` and `vigil score`: --in FILE (or
// stdin), labels without a time given one by --label-delay, and a stop when
// too many lines are invalid (--max-invalid-share).

#include "actors/cli/command_line.h"
#include "models/registry/model_registry.h"
#include "pipeline/schema/transaction_file.h"

#include <fstream>
#include <ostream>

namespace vigil::cli {

/// Options every command reading a transaction file accepts.
inline const char* const input_file_help =
  "  --in FILE             transactions as JSON lines (default: stdin); format in README\n"
  "  --label-delay HOURS   a label without label_time becomes known this long after its\n"
  "                        transaction (default: such a line is refused)\n"
  "  --max-invalid-share F stop when more than this share of lines is invalid (default 0.01)\n";
inline const char* const input_file_options[] = {"in", "label-delay", "max-invalid-share"};

/// Reads the input; prints the counts and the first rejected lines to
/// stderr. Throws usage_error when the file cannot be opened or more than
/// the allowed share of its lines is invalid (nothing is trained or scored).
pipeline::transaction_file read_input_file(const command_line& cl);

/// Where --out points (opened into `file`), or stdout without it. Throws
/// usage_error when the file cannot be opened.
std::ostream& output_of(const command_line& cl, std::ofstream& file);

/// --score-from as epoch ms: rows before it only build state. The earliest
/// time when absent; usage_error when it is not ISO-8601.
std::int64_t score_from_option(const command_line& cl);

/// The model version `--<option>` names, else the registry's production
/// model's; usage_error when there is neither.
int version_or_production(const command_line& cl, const std::string& option, const models::model_registry& registry);

} // namespace vigil::cli
