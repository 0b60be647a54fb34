#pragma once
// One function per `vigil` subcommand. Each returns the process exit code.

#include <string>
#include <vector>

namespace vigil::cli {

using arguments = std::vector<std::string>;

int simulate_command(const arguments& args);
int train_command(const arguments& args);
int score_command(const arguments& args);
int backtest_command(const arguments& args);
int evaluate_command(const arguments& args);
int import_command(const arguments& args);
int models_command(const arguments& args);
int run_command(const arguments& args);

} // namespace vigil::cli
