// vigil: the command-line entry point. Wiring only; every command lives in
// its own file.

#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"

#include <cstring>
#include <iostream>
#include <map>

namespace {

constexpr const char* help = R"(usage: vigil <command> [options]     (vigil <command> --help for details)

  run        run the streaming pipeline: embedded by default, Kafka with --brokers
  simulate   write simulated labelled transactions (JSON lines)
  train      train a model on labelled transactions and register it
  score      score a JSON-lines file with a registered model
  backtest   replay labelled history with a candidate model and rules beside production's
  evaluate   prequential evaluation on a labelled file (train, delay, test; folds)
  import     convert a CSV file into labelled JSON lines
  models     list registered models or promote one
)";

} // namespace

int main(int argc, char** argv) {
  using namespace vigil::cli;
  static const std::map<std::string, int (*)(const arguments&)> commands = {
    {"run", run_command},       {"simulate", simulate_command}, {"train", train_command},
    {"score", score_command},   {"models", models_command}, {"evaluate", evaluate_command},
    {"import", import_command}, {"backtest", backtest_command}};
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    std::cout << help;
    return argc < 2 ? 2 : 0;
  }
  auto it = commands.find(argv[1]);
  if (it == commands.end()) {
    std::cerr << "vigil: unknown command '" << argv[1] << "'\n" << help;
    return 2;
  }
  try {
    return it->second(arguments(argv + 2, argv + argc));
  } catch (const usage_error& e) {
    std::cerr << "vigil " << argv[1] << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vigil " << argv[1] << ": error: " << e.what() << "\n";
    return 1;
  }
}
