#include "actors/pipeline/snapshot_store.h"

#include "models/registry/model_registry.h"

#include <filesystem>

namespace vigil::actors {

std::optional<std::string> file_snapshot_store::load() {
  if (!std::filesystem::exists(path_))
    return std::nullopt;
  return models::read_whole_file(path_);
}

void file_snapshot_store::save(const std::string& blob) {
  auto path = std::filesystem::absolute(path_);
  models::write_file_atomically(path, blob);
}

} // namespace vigil::actors
