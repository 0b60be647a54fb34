#pragma once
// Shared fixtures for tests that need a trained model or a scratch folder.

#include <filesystem>
#include <map>
#include <string>

#include "config/runtime_config.h"

#include <nlohmann/json.hpp>

namespace vigil::testing {

/// A config for an embedded test node writing into `dir`: the trained
/// registry, any free HTTP port, an unthrottled simulator of `count`
/// records (0 = unbounded), no scheduled retraining.
config::runtime_config embedded_config(const std::filesystem::path& dir, std::int64_t count);

/// A fresh, empty folder under the temp directory, unique per call.
std::filesystem::path scratch_dir(const std::string& name);

/// A registry with a production model trained on simulated data (built once
/// per test process, ~3 s): ensure_production_model's bootstrap stream of
/// this many transactions.
constexpr std::int64_t trained_registry_transactions = 40'000;
const std::filesystem::path& trained_registry();

/// Decisions of a JSON-lines decisions file by transaction_id; `lines`
/// receives the number of lines (to detect duplicates).
std::map<std::string, nlohmann::json> read_decisions(const std::filesystem::path& file,
                                                     std::size_t* lines = nullptr);

/// A whole file as text ("" when it cannot be read).
std::string text_of(const std::filesystem::path& file);

/// Runs `command` through the shell with its stderr in `err`: its exit
/// status, -1 when it did not exit normally.
int run_with_stderr(const std::string& command, const std::filesystem::path& err);

} // namespace vigil::testing
