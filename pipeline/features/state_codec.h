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
/// window). Version 3, written now, has version 2's fields with each window
/// and recent set sparse (a mask of the slots that are not empty, then
/// those slots). Every version is read.
constexpr std::uint8_t state_codec_version = 1;
constexpr std::uint8_t state_codec_version_pending_labels = 2;
constexpr std::uint8_t state_codec_version_sparse = 3;

std::string encode(const user_state& s);
std::string encode(const merchant_state& s);
/// The state in an older `version`'s layout (tests of reading old
/// checkpoints); throws std::invalid_argument for a version that never was.
/// Version 1 drops what it cannot hold (a user's labelled window and the
/// labels held back).
std::string encode_as(const user_state& s, std::uint8_t version);
std::string encode_as(const merchant_state& s, std::uint8_t version);

/// Decoding fails (nullopt) on a wrong version, a short or overlong buffer.
std::optional<user_state> decode_user_state(std::string_view bytes);
std::optional<merchant_state> decode_merchant_state(std::string_view bytes);

} // namespace vigil::pipeline
