#pragma once
// Exact binary serialisation of per-key state, for snapshots (Redis, file).
// Little-endian, versioned; a round trip gives a state equal field by field.

#include "pipeline/features/entity_state.h"

#include <optional>
#include <string>
#include <string_view>

namespace vigil::pipeline {

/// Format version written in front of every encoded state. A merchant
/// holding labels back is written as version 2 (version 1 plus its pending
/// labels); every other state as version 1, byte for byte as before.
constexpr std::uint8_t state_codec_version = 1;
constexpr std::uint8_t state_codec_version_pending_labels = 2;

std::string encode(const user_state& s);
std::string encode(const merchant_state& s);

/// Decoding fails (nullopt) on a wrong version, a short or overlong buffer.
std::optional<user_state> decode_user_state(std::string_view bytes);
std::optional<merchant_state> decode_merchant_state(std::string_view bytes);

} // namespace vigil::pipeline
