#pragma once
// Durable home of pipeline checkpoints. A checkpoint is saved whole and
// atomically; it is loaded in two parts: what the node restores when it
// starts, and what each input partition brings when it is assigned.

#include "pipeline/features/store_snapshot.h"

#include <optional>
#include <string>
#include <vector>

namespace vigil::connectors {

class snapshot_store {
 public:
  virtual ~snapshot_store() = default;
  /// What a node restores at start; nullopt when nothing was saved. Throws
  /// std::runtime_error when the store is unreachable or the data corrupt.
  virtual std::optional<pipeline::store_snapshot> load_node() = 0;
  /// Takes ownership of these partitions and returns their positions and
  /// users (a partition never checkpointed has no position). A store shared
  /// by nodes fences off the previous owner: its later saves are refused.
  /// Throws like load_node().
  virtual pipeline::store_snapshot claim_partitions(const std::vector<std::int32_t>& partitions) = 0;
  /// Stores the positions in `s.positions` and every user and merchant in
  /// `s` over what is stored (an upsert: a checkpoint carries what changed),
  /// atomically: a reader sees all old or all new. Throws
  /// std::runtime_error, and writes nothing, when it cannot store all.
  virtual void save(const pipeline::store_snapshot& s) = 0;
};

/// A local file, replaced by write-to-temp + fsync + rename. It belongs to
/// one node: load_node() restores everything in it.
class file_snapshot_store final : public snapshot_store {
 public:
  explicit file_snapshot_store(std::string path) : path_(std::move(path)) {}
  std::optional<pipeline::store_snapshot> load_node() override;
  pipeline::store_snapshot claim_partitions(const std::vector<std::int32_t>& partitions) override;
  void save(const pipeline::store_snapshot& s) override;

 private:
  std::string path_;
};

} // namespace vigil::connectors
