#pragma once
// Checkpoints in Redis: the blob (state + positions) and its metadata are
// written in one MULTI/EXEC transaction, so readers see both or neither.

#include "actors/pipeline/snapshot_store.h"

#include <string>

namespace vigil::actors {

class redis_snapshot_store final : public snapshot_store {
 public:
  /// `address` is host:port; `key` names this pipeline's checkpoint.
  redis_snapshot_store(std::string address, std::string key);
  /// Throws std::runtime_error when Redis is unreachable or answers an error.
  std::optional<std::string> load() override;
  void save(const std::string& blob) override;
  /// PING: true when the server answers.
  static bool reachable(const std::string& address);

 private:
  std::string host_;
  int port_ = 6379;
  std::string key_;
};

} // namespace vigil::actors
