#pragma once
// Versioned live configuration: every accepted change gets the next version,
// a refused change leaves everything as it was, and any earlier version can
// be restored (a rollback is itself a new version).

#include "config/runtime_config.h"

#include <string>
#include <vector>

namespace vigil::config {

struct config_version {
  int version = 0;
  runtime_config config;
  std::string source;  ///< "startup", "http", "sighup", "rollback to N"
};

class config_history {
 public:
  explicit config_history(runtime_config initial);

  const config_version& current() const { return versions_.back(); }
  const std::vector<config_version>& versions() const { return versions_; }

  /// Applies a partial JSON object as a live change; returns the reasons
  /// when refused (then nothing changes). A change to what is current is
  /// accepted without a new version.
  std::vector<config_error> update(const nlohmann::json& patch, const std::string& source);

  /// Replaces the whole config (e.g. a reloaded file) except the token, which
  /// only a PATCH changes; restart-only fields must be unchanged. Replacing
  /// with what is current adds no version.
  std::vector<config_error> replace(const runtime_config& next, const std::string& source);

  /// Restores `version` as a new version (the token stays as it is).
  /// Refused for an unknown version.
  std::vector<config_error> rollback(int version);

 private:
  std::vector<config_version> versions_;
};

/// Reads a JSON config file on top of the defaults. Throws std::runtime_error
/// listing every problem.
runtime_config load_config_file(const std::string& path);

} // namespace vigil::config
