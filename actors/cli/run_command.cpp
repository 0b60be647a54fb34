#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "actors/node/vigil_node.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace vigil::cli {
namespace {

constexpr const char* help = R"(usage: vigil run [options]
Runs a Vigil node. With no brokers, the whole pipeline runs in this process:
the simulator feeds the actors, decisions go to a JSON-lines file, state is
checkpointed to a local file, and the HTTP API serves /predict, /feedback,
/config, /metrics and the dashboard.

  --config FILE         JSON config file (reloaded on SIGHUP)
  --brokers LIST        Kafka bootstrap servers (host:port,...): stream from Kafka
  --redis HOST:PORT     keep checkpoints in Redis instead of a local file
  --registry DIR        model registry (default ./registry)
  --http-port N         HTTP port (default 8080, 0 = any free port)
  --rate R              embedded simulator rate, transactions/s (default 2000)
  --count N             stop after N simulated transactions (default: run until stopped)
  --seed N              embedded simulator seed (default 1)
  --replay FILE         feed the embedded pipeline from a labelled JSON-lines file instead
                        of the simulator, in event-time order; each label counts from its
                        label_time on, as in `vigil score` (stops when the file is done)
  --speedup X           replay pace: X seconds of event time per second (default 0: flat out)
  --decisions FILE      decisions file (default decisions.jsonl)
  --snapshot FILE       checkpoint file (default vigil-state.snapshot)
  --set KEY=VALUE       set any config field (JSON value), repeatable via commas: a=1,b="x"
Environment: VIGIL_AUTH_TOKEN sets auth_token without putting it on the
command line (--set still wins). The default token is refused unless
http_address is loopback.
Stops on SIGINT/SIGTERM after a final checkpoint. Exits with status 1 when
another node takes its node_name lease (its checkpoints would be refused).
)";

std::atomic<int> pending_signal{0};

void on_signal(int sig) { pending_signal = sig; }

} // namespace

int run_command(const arguments& args) {
  command_line cl(args,
                  {"config", "brokers", "redis", "registry", "http-port", "rate", "count", "seed",
                   "decisions", "snapshot", "set", "replay", "speedup"},
                  {"help"});
  if (cl.has("help")) {
    std::cout << help;
    return 0;
  }
  std::string config_path = cl.text("config", "");
  config::runtime_config base = config_path.empty() ? config::runtime_config{}
                                                    : config::load_config_file(config_path);
  nlohmann::json patch = nlohmann::json::object();
  auto flag = [&](const char* option, const char* field, bool numeric) {
    if (!cl.has(option))
      return;
    auto text = cl.text(option, "");
    patch[field] = numeric ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json(text);
  };
  flag("brokers", "brokers", false);
  flag("redis", "redis", false);
  flag("registry", "registry_dir", false);
  flag("http-port", "http_port", true);
  flag("rate", "simulator_rate", true);
  flag("count", "simulator_count", true);
  flag("seed", "simulator_seed", true);
  flag("decisions", "decisions_path", false);
  flag("snapshot", "snapshot_path", false);
  flag("replay", "replay_path", false);
  flag("speedup", "replay_speedup", true);
  // The token from the environment: a command line is visible to every user.
  if (const char* token = std::getenv("VIGIL_AUTH_TOKEN"); token && *token)
    patch["auth_token"] = token;
  if (cl.has("set")) {
    std::string sets = cl.text("set", "");
    std::size_t start = 0;
    while (start < sets.size()) {
      auto comma = sets.find(',', start);
      auto item = sets.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto eq = item.find('=');
      if (eq == std::string::npos)
        throw usage_error("--set expects KEY=VALUE, got '" + item + "'");
      auto value = nlohmann::json::parse(item.substr(eq + 1), nullptr, false);
      patch[item.substr(0, eq)] = value.is_discarded() ? nlohmann::json(item.substr(eq + 1)) : value;
      start = comma == std::string::npos ? sets.size() : comma + 1;
    }
  }
  config::runtime_config cfg;
  auto errors = config::apply_patch(base, patch, false, cfg);
  if (!errors.empty()) {
    std::string message = "invalid configuration:";
    for (const auto& e : errors)
      message += " " + e.field + ": " + e.reason + ";";
    throw usage_error(message);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);
  std::cerr << "vigil: starting " << (cfg.brokers.empty() ? "embedded" : "Kafka") << " pipeline"
            << (cfg.replay_path.empty() ? "" : ", replaying " + cfg.replay_path) << "\n";
  actors::vigil_node node{cfg, config_path};
  node.start();
  // One write: background threads (the history read-back) print too, and
  // scripts read the port from this line.
  std::cerr << ("vigil: running; decisions -> " +
                (cfg.brokers.empty() ? cfg.decisions_path : std::string("topic fraud_predictions")) +
                "; dashboard and API on http://" + cfg.http_address + ":" + std::to_string(node.http_port()) +
                "/ ; Ctrl-C to stop\n");
  auto last_summary = std::chrono::steady_clock::now();
  int exit_code = 0;
  while (!node.drained()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int sig = pending_signal.exchange(0);
    if (sig == SIGHUP) {
      auto refused = node.reload_config_file();
      std::cerr << "vigil: SIGHUP config reload " << (refused.empty() ? "applied" : "refused") << "\n";
      for (const auto& e : refused)
        std::cerr << "  " << e.field << ": " << e.reason << "\n";
    } else if (sig != 0) {
      break;
    }
    if (auto why = node.fatal_error(); !why.empty()) {
      std::cerr << "vigil: stopping: " << why << "\n";
      exit_code = 1;
      break;
    }
    if (std::chrono::steady_clock::now() - last_summary > std::chrono::seconds(5)) {
      std::cerr << "vigil: " << node.summary_line() << "\n";
      last_summary = std::chrono::steady_clock::now();
    }
  }
  node.stop();
  std::cerr << "vigil: stopped; " << node.summary_line() << "\n";
  return exit_code;
}

} // namespace vigil::cli
