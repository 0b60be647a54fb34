#pragma once
// The bearer token rotated with PATCH /config, kept in a file of its own
// (mode 0600) so it survives restarts. A rollback or a reloaded config file
// never touches it.

#include "config/runtime_config.h"

#include <optional>
#include <string>

namespace vigil::config {

/// The token in `path`; nullopt when there is no such file. Throws
/// std::runtime_error when the file exists but cannot be read or holds no
/// valid token (a broken file must not silently fall back to the default).
std::optional<std::string> read_token_file(const std::string& path);

/// Writes `token` to `path` atomically (temporary file, fsync, rename), mode
/// 0600. Throws std::runtime_error naming the path on failure.
void write_token_file(const std::string& path, const std::string& token);

/// Compares every byte whatever the first difference, so the answer time
/// does not tell an attacker how much of a guess was right. (The length is
/// not secret: it is checked first.)
bool same_secret(const std::string& given, const std::string& expected);

/// `c` with the persisted token, when there is one.
runtime_config with_persisted_token(runtime_config c);

} // namespace vigil::config
