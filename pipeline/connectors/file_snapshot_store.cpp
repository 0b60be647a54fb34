#include "pipeline/connectors/snapshot_store.h"

#include "models/registry/model_registry.h"

#include <filesystem>
#include <stdexcept>

namespace vigil::connectors {

std::optional<pipeline::store_snapshot> file_snapshot_store::load_node() {
  if (!std::filesystem::exists(path_))
    return std::nullopt;
  auto snapshot = pipeline::decode_snapshot(models::read_whole_file(path_));
  if (!snapshot)
    throw std::runtime_error("the checkpoint " + path_ +
                             " is corrupt; move it away to start from scratch");
  return snapshot;
}

pipeline::store_snapshot file_snapshot_store::claim_partitions(
  const std::vector<std::int32_t>& partitions) {
  pipeline::store_snapshot out;
  auto whole = load_node();
  if (!whole)
    return out;
  for (auto partition : partitions)
    out.absorb(pipeline::partition_part(*whole, partition));
  return out;
}

void file_snapshot_store::save(const pipeline::store_snapshot& s) {
  pipeline::store_snapshot merged = load_node().value_or(pipeline::store_snapshot{});
  merged.absorb(pipeline::store_snapshot(s));
  models::write_file_atomically(std::filesystem::absolute(path_), pipeline::encode_snapshot(merged));
}

} // namespace vigil::connectors
