#pragma once
// Exact binary serialisation of per-key state, for snapshots (Redis, file).
// Little-endian, versioned; a round trip gives a state equal field by field.

#include "pipeline/features/entity_state.h"

#include <optional>
#include <string>
#include <string_view>

namespace vigil::pipeline {

/// Format version written in front of every encoded state. Version 2 adds
/// the labels a key holds back (and, for a user, its labelled-records
/// window). Users are written as version 2; a merchant holding no labels
/// back as version 1, byte for byte as before. Both versions are read.
constexpr std::uint8_t state_codec_version = 1;
constexpr std::uint8_t state_codec_version_pending_labels = 2;

std::string encode(const user_state& s);
std::string encode(const merchant_state& s);

/// Decoding fails (nullopt) on a wrong version, a short or overlong buffer.
std::optional<user_state> decode_user_state(std::string_view bytes);
std::optional<merchant_state> decode_merchant_state(std::string_view bytes);

} // namespace vigil::pipeline
