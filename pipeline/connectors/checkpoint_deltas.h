#pragma once
// A checkpoint's changes to one Redis hash, written so that no single Redis
// command is large. Redis runs one command at a time: the checkpoint saved
// as one script of every changed user (140-370 ms at 30k tx/s) held every
// other client that long, the merchant host's appends among them, and the
// stream stalled behind it. Instead:
//   1. the changes go to a delta hash of their own, <hash>:delta:<name>, in
//      chunks (write_delta); a deleted field is an empty value (tombstone);
//      until committed the delta expires by itself;
//   2. the save's fenced commit script appends the delta's name to the list
//      <hash>:deltas, with the hash's position, in one small atomic step;
//   3. the deltas are folded into the hash, oldest first, a chunk per call
//      (compact_deltas).
// A reader takes the hash and lays the listed deltas over it in order
// (read_hash_with_deltas), so it sees exactly the committed checkpoints
// whether or not their folding finished, was cut short by a crash, or is
// under way. Folding needs no fence: it copies committed state in order,
// and each chunk goes ahead only while its delta is still the oldest.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct redisContext;

namespace vigil::connectors {

/// What one save writes to one hash.
struct hash_change {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> deleted;
  bool empty() const { return set.empty() && deleted.empty(); }
};

/// Limits of one chunk (one Redis command) of a delta or of its folding.
constexpr std::size_t delta_chunk_fields = 64;
constexpr std::size_t delta_chunk_bytes = 256 << 10;
/// An uncommitted delta (its save failed or died) vanishes after this.
constexpr int uncommitted_delta_ttl_seconds = 3600;

/// The list of committed deltas of `hash`, oldest first.
std::string delta_list_key(const std::string& hash);

/// Splits `change` into chunks of at most delta_chunk_fields fields and
/// delta_chunk_bytes bytes (a larger field alone), deletions as tombstones
/// (empty values), in order. Moves the strings out of `change`.
std::vector<std::vector<std::pair<std::string, std::string>>> delta_chunks(hash_change&& change);

/// Writes `change` to the new hash `delta`, chunk by chunk, with the TTL of
/// an uncommitted delta (the commit removes it). Throws when Redis fails.
void write_delta(redisContext* c, const std::string& delta, hash_change&& change);

/// Folds every committed delta of `hash` into it, oldest first, until none
/// is left. Throws when Redis fails (what is left is folded next time, and
/// readers lay it over the hash meanwhile).
void compact_deltas(redisContext* c, const std::string& hash);

/// Calls `field(key, name, value)` for every field of `hash` and then of
/// each committed delta of it in order (`key` names the hash the field was
/// read from): later calls for a name override earlier ones, and an empty
/// value means the field was deleted. Throws when Redis fails.
void read_hash_with_deltas(
  redisContext* c, const std::string& hash,
  const std::function<void(const std::string& key, std::string_view name, std::string_view value)>& field);

} // namespace vigil::connectors
