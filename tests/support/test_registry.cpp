#include "support/test_registry.h"

#include "models/registry/model_registry.h"
#include "models/training/model_publication.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <sys/wait.h>
#include <unistd.h>

namespace vigil::testing {

std::filesystem::path scratch_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("vigil-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

const std::filesystem::path& trained_registry() {
  static const std::filesystem::path dir = [] {
    auto d = scratch_dir("registry");
    models::model_registry registry{d};
    models::ensure_production_model(registry, trained_registry_transactions, {});
    return d;
  }();
  return dir;
}

config::runtime_config embedded_config(const std::filesystem::path& dir, std::int64_t count) {
  config::runtime_config c;
  c.registry_dir = trained_registry().string();
  c.decisions_path = (dir / "decisions.jsonl").string();
  c.snapshot_path = (dir / "state.snapshot").string();
  c.labels_path = (dir / "labels.jsonl").string();
  c.auth_token_path = (dir / "auth-token").string();
  c.http_port = 0;
  c.simulator_rate = 0;
  c.simulator_count = count;
  c.retrain_daily_at = "";
  c.retrain_min_new_labels = 0;
  return c;
}

std::map<std::string, nlohmann::json> read_decisions(const std::filesystem::path& file,
                                                     std::size_t* lines) {
  std::map<std::string, nlohmann::json> out;
  std::ifstream in(file);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto j = nlohmann::json::parse(line);
    auto id = j["transaction_id"].get<std::string>();
    out[id] = std::move(j);
  }
  if (lines)
    *lines = n;
  return out;
}

std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int run_with_stderr(const std::string& command, const std::filesystem::path& err) {
  int status = std::system((command + " 2> " + err.string()).c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace vigil::testing
