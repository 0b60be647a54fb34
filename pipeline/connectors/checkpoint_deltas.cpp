#include "pipeline/connectors/checkpoint_deltas.h"

#include "pipeline/connectors/redis_connection.h"

#include <stdexcept>

namespace vigil::connectors {

std::string delta_list_key(const std::string& hash) { return hash + ":deltas"; }

namespace {

// KEYS[1]: the delta; ARGV[1]: its TTL, then field/value pairs.
constexpr const char* write_chunk_script = R"lua(
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
)lua";

// KEYS: the hash, its delta list, the delta being folded; ARGV: the scan
// cursor and the chunk's field count. Folds one chunk of the delta into the
// hash (a tombstone deletes), only while that delta is the oldest listed;
// once its scan is complete, unlists and deletes it. Returns the next
// cursor ("0": this delta is done), or "-" when the delta is not the oldest
// any more (another folder finished it).
constexpr const char* fold_chunk_script = R"lua(
if redis.call('LINDEX', KEYS[2], 0) ~= KEYS[3] then return '-' end
local r = redis.call('HSCAN', KEYS[3], ARGV[1], 'COUNT', ARGV[2])
local kv = r[2]
for i = 1, #kv, 2 do
  if kv[i + 1] == '' then
    redis.call('HDEL', KEYS[1], kv[i])
  else
    redis.call('HSET', KEYS[1], kv[i], kv[i + 1])
  end
end
if r[1] == '0' then
  redis.call('LPOP', KEYS[2])
  redis.call('DEL', KEYS[3])
end
return r[1]
)lua";

std::vector<std::string> delta_names(redisContext* c, const std::string& hash) {
  auto r = redis_command(c, {"LRANGE", delta_list_key(hash), "0", "-1"});
  std::vector<std::string> names;
  for (std::size_t i = 0; i < r->elements; ++i)
    names.emplace_back(r->element[i]->str, r->element[i]->len);
  return names;
}

redis_reply_ptr hgetall(redisContext* c, const std::string& key) {
  auto r = redis_command(c, {"HGETALL", key});
  if (r->type != REDIS_REPLY_ARRAY)
    throw std::runtime_error("redis: unexpected HGETALL reply for " + key);
  return r;
}

} // namespace

std::vector<std::vector<std::pair<std::string, std::string>>> delta_chunks(hash_change&& change) {
  std::vector<std::vector<std::pair<std::string, std::string>>> chunks;
  std::size_t bytes = 0;
  auto add = [&](std::string&& field, std::string&& value) {
    const auto size = field.size() + value.size();
    if (chunks.empty() || chunks.back().size() >= delta_chunk_fields ||
        (bytes + size > delta_chunk_bytes && !chunks.back().empty())) {
      chunks.emplace_back();
      bytes = 0;
    }
    chunks.back().emplace_back(std::move(field), std::move(value));
    bytes += size;
  };
  for (auto& [field, value] : change.set)
    add(std::move(field), std::move(value));
  for (auto& field : change.deleted)
    add(std::move(field), std::string());
  change = {};
  return chunks;
}

void write_delta(redisContext* c, const std::string& delta, hash_change&& change) {
  for (auto& chunk : delta_chunks(std::move(change))) {
    std::vector<std::string> args{"EVAL", write_chunk_script, "1", delta,
                                  std::to_string(uncommitted_delta_ttl_seconds)};
    args.reserve(args.size() + 2 * chunk.size());
    for (auto& [field, value] : chunk) {
      args.push_back(std::move(field));
      args.push_back(std::move(value));
    }
    redis_command(c, std::move(args));
  }
}

void compact_deltas(redisContext* c, const std::string& hash) {
  const auto list = delta_list_key(hash);
  // Only the deltas listed now: a writer that keeps committing cannot keep
  // this loop going.
  auto listed = redis_command(c, {"LLEN", list})->integer;
  for (long long folded = 0; folded < listed; ++folded) {
    auto head = redis_command(c, {"LINDEX", list, "0"});
    if (head->type != REDIS_REPLY_STRING)
      return;  // none left
    const std::string delta(head->str, head->len);
    std::string cursor = "0";
    do {
      auto r = redis_command(c, {"EVAL", fold_chunk_script, "3", hash, list, delta, cursor,
                                 std::to_string(delta_chunk_fields)});
      cursor.assign(r->str, r->len);
    } while (cursor != "0" && cursor != "-");
  }
}

void read_hash_with_deltas(
  redisContext* c, const std::string& hash,
  const std::function<void(const std::string& key, std::string_view name, std::string_view value)>& field) {
  // Consistent only when no delta was committed or folded away while the
  // hash and its deltas were read (a commit moves the hash's position; a
  // fold ends by deleting its delta): the list is read before and after,
  // and the whole read repeated when it changed. A new owner reads while
  // the last one may still fold its final checkpoint.
  constexpr int attempts = 20;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto before = delta_names(c, hash);
    std::vector<std::pair<std::string, redis_reply_ptr>> replies;
    replies.emplace_back(hash, hgetall(c, hash));
    for (const auto& delta : before)
      replies.emplace_back(delta, hgetall(c, delta));
    if (delta_names(c, hash) != before)
      continue;
    for (const auto& [key, r] : replies)
      for (std::size_t i = 0; i + 1 < r->elements; i += 2)
        field(key, std::string_view(r->element[i]->str, r->element[i]->len),
              std::string_view(r->element[i + 1]->str, r->element[i + 1]->len));
    return;
  }
  throw std::runtime_error("redis: the checkpoint deltas of " + hash + " kept changing while read");
}

} // namespace vigil::connectors
