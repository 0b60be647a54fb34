#pragma once
// A consistent checkpoint: per-key state plus the source positions it
// reflects. Written as one blob, so state and offsets can never disagree.

#include "pipeline/features/entity_state.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vigil::pipeline {

struct store_snapshot {
  /// Source position per input ("partition 3" -> next offset to read).
  std::map<std::string, std::int64_t> positions;
  std::unordered_map<std::string, user_state> users;
  std::unordered_map<std::string, merchant_state> merchants;
};

/// Layout: magic "VGSNAP1\n", then length-prefixed sections. Deterministic:
/// keys are written sorted, so equal snapshots encode to equal bytes.
std::string encode_snapshot(const store_snapshot& s);
/// nullopt on a bad magic, truncation or a corrupt state entry.
std::optional<store_snapshot> decode_snapshot(std::string_view bytes);

} // namespace vigil::pipeline
