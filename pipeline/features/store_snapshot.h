#pragma once
// A consistent checkpoint: per-key state plus the source positions it
// reflects. Written as one blob, so state and offsets can never disagree.
//
// State is owned per input partition: a user's state belongs to the
// partition its records come from (the topic is keyed by user_id), so a
// partition's users and its position can move together between nodes.
// Merchants, and users no partition owns (created by /predict?update=true),
// belong to the node.

#include "pipeline/features/entity_state.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vigil::pipeline {

/// Owner tag of users that no input partition owns.
constexpr std::int32_t no_partition = -1;

struct store_snapshot {
  /// Input partition -> next offset to read.
  std::map<std::int32_t, std::int64_t> positions;
  user_map users;
  /// User -> the partition that owns its state (absent = no_partition).
  std::unordered_map<std::string, std::int32_t> user_partitions;
  merchant_map merchants;
  /// Keys forgotten since the last checkpoint (expired, or pushed out of the
  /// bound on keys created over HTTP): a save deletes them from the store.
  /// Users with the partition that owned them. Never encoded: a saved
  /// snapshot has them applied.
  std::unordered_map<std::string, std::int32_t> removed_users;
  std::unordered_set<std::string> removed_merchants;

  std::int32_t partition_of_user(const std::string& user_id) const;
  /// Moves everything of `other` into this snapshot (keys of `other` win),
  /// then deletes what `other` removed and remembers those removals, so a
  /// checkpoint merged from shard parts still carries them to the store.
  void absorb(store_snapshot&& other);
};

/// What `partition` owns: its position (if any) and its users.
store_snapshot partition_part(const store_snapshot& s, std::int32_t partition);
/// What the node owns: merchants and users without a partition.
store_snapshot node_part(const store_snapshot& s);

/// Layout: magic "VGSNAP2\n", then length-prefixed sections. Deterministic:
/// keys are written sorted, so equal snapshots encode to equal bytes.
std::string encode_snapshot(const store_snapshot& s);
/// nullopt on a bad magic, truncation or a corrupt state entry.
std::optional<store_snapshot> decode_snapshot(std::string_view bytes);

} // namespace vigil::pipeline
