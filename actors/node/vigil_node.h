#pragma once
// One running Vigil node: actor system, pipeline, model, live config.
// CAF stays behind the pimpl so that the CLI and HTTP layers compile
// without it.

#include "config/config_history.h"

#include <chrono>
#include <memory>
#include <string>

namespace vigil::actors {

class vigil_node {
 public:
  /// `config_path` is re-read on reload_config_file() ("" = none).
  vigil_node(config::runtime_config cfg, std::string config_path);
  ~vigil_node();

  /// Ensures a production model (bootstrapping one on first run), restores
  /// the last checkpoint and starts the pipeline. Throws on failure.
  void start();

  /// Blocks until a finite source is exhausted, delivered and checkpointed;
  /// false on timeout.
  bool wait_drained(std::chrono::milliseconds timeout);
  /// True once a finite source is exhausted, delivered and checkpointed.
  bool drained() const;
  /// Takes a checkpoint now (blocks until saved); false on timeout/failure.
  bool checkpoint(std::chrono::milliseconds timeout);
  /// Final checkpoint, then stops every actor.
  void stop();
  /// Why this node must stop ("" = nothing): another node took its
  /// node_name lease, so its checkpoints would all be refused.
  std::string fatal_error() const;

  /// Applies a live config patch; returns refusal reasons (empty = applied).
  std::vector<config::config_error> update_config(const nlohmann::json& patch,
                                                  const std::string& source);
  std::vector<config::config_error> rollback_config(int version);
  /// Re-reads the config file (SIGHUP).
  std::vector<config::config_error> reload_config_file();
  const config::config_history& config() const;

  /// The HTTP port actually bound (config http_port 0 = any free port).
  unsigned short http_port() const;

  /// One console line: throughput, decisions, latency, credit.
  std::string summary_line() const;

  struct impl;
  impl& internals() { return *impl_; }

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace vigil::actors
