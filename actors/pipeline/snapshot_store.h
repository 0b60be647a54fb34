#pragma once
// Durable home of pipeline checkpoints (state + positions in one blob).

#include <optional>
#include <string>

namespace vigil::actors {

class snapshot_store {
 public:
  virtual ~snapshot_store() = default;
  /// The last saved checkpoint, if any. Throws std::runtime_error when the
  /// store is unreachable.
  virtual std::optional<std::string> load() = 0;
  /// Replaces the checkpoint atomically: a reader sees the old or the new one.
  virtual void save(const std::string& blob) = 0;
};

/// A local file, replaced by write-to-temp + fsync + rename.
class file_snapshot_store final : public snapshot_store {
 public:
  explicit file_snapshot_store(std::string path) : path_(std::move(path)) {}
  std::optional<std::string> load() override;
  void save(const std::string& blob) override;

 private:
  std::string path_;
};

} // namespace vigil::actors
