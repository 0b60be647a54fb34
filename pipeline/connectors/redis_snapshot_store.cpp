#include "pipeline/connectors/redis_snapshot_store.h"

#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_connection.h"
#include "pipeline/features/state_codec.h"
#include "pipeline/metrics/metrics_registry.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace vigil::connectors {

std::string checkpoint_prefix(const std::string& group, const std::string& topic) {
  return "vigil:checkpoint:" + group + ":" + topic;
}

redis_snapshot_store::redis_snapshot_store(std::string address, std::string prefix,
                                           std::string node_name)
  : address_(std::move(address)), prefix_(std::move(prefix)), node_name_(std::move(node_name)),
    lost_checkpoints_(pipeline::metrics().get_counter(
      "vigil_checkpoint_store_lost_total",
      "Saves that found Redis had lost this node's checkpoints (no ownership epoch, or an older one): partitions "
      "claimed again, "
      "the next checkpoint stores all state")) {}

std::string redis_snapshot_store::lease_key() const {
  return node_key() + ":lease";
}

void redis_snapshot_store::require_lease(std::shared_ptr<const node_name_lease> lease) {
  lease_ = std::move(lease);
}

std::string redis_snapshot_store::partition_key(std::int32_t partition) const {
  return prefix_ + ":partition:" + std::to_string(partition);
}

std::string redis_snapshot_store::node_key() const {
  return prefix_ + ":node:" + node_name_;
}

namespace {

constexpr std::string_view user_field = "u:", merchant_field = "m:", position_field = "position";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Decodes one checkpoint hash (HGETALL reply) into `out`; users get
// `owner` as their partition.
void decode_hash(const redisReply& r, const std::string& key, std::int32_t owner,
                 pipeline::store_snapshot& out) {
  for (std::size_t i = 0; i + 1 < r.elements; i += 2) {
    std::string_view field(r.element[i]->str, r.element[i]->len);
    std::string_view value(r.element[i + 1]->str, r.element[i + 1]->len);
    if (field == position_field && owner != pipeline::no_partition) {
      out.positions[owner] = std::stoll(std::string(value));
    } else if (starts_with(field, user_field)) {
      auto state = pipeline::decode_user_state(value);
      if (!state)
        throw std::runtime_error("redis: corrupt user in checkpoint " + key);
      std::string id(field.substr(user_field.size()));
      out.users[id] = *state;
      if (owner != pipeline::no_partition)
        out.user_partitions[id] = owner;
    } else if (starts_with(field, merchant_field)) {
      auto state = pipeline::decode_merchant_state(value);
      if (!state)
        throw std::runtime_error("redis: corrupt merchant in checkpoint " + key);
      out.merchants[std::string(field.substr(merchant_field.size()))] = *state;
    }
  }
}

redis_reply_ptr hgetall(redisContext* c, const std::string& key) {
  auto r = redis_command(c, {"HGETALL", key});
  if (r->type != REDIS_REPLY_ARRAY)
    throw std::runtime_error("redis: unexpected HGETALL reply for " + key);
  return r;
}

// KEYS: the node's hash, the node_name lease, then per partition its hash
// and its owner key. ARGV: this save's sequence number and time, the lease
// token ("" = no lease: not checked), then per partition the epoch this
// node claimed ("" = unclaimed: not checked); then for the node's hash and
// each partition's hash in KEYS order, a field count and that many
// field/value pairs to set, then a count and that many fields to delete
// (keys forgotten since the last save). Nothing is written unless the lease and every claimed
// partition are still this node's (fencing) and nothing newer is stored: a
// save that timed out on the client can still reach Redis later, and must
// not overwrite newer state with older.
constexpr const char* fenced_save_script = R"lua(
local seq, now, token = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local partitions = (#KEYS - 2) / 2
if token ~= '' and redis.call('GET', KEYS[2]) ~= token then
  return redis.error_reply('fenced: the node_name lease ' .. KEYS[2] .. ' is not ours')
end
local saved = tonumber(redis.call('HGET', KEYS[1], 'saved_at_ms') or '0')
if saved > now then
  return redis.error_reply('stale: ' .. KEYS[1] .. ' holds a newer checkpoint')
end
for i = 1, partitions do
  local want = ARGV[3 + i]
  if want ~= '' then
    local held = redis.call('GET', KEYS[2 + 2 * i])
    if not held or tonumber(held) < tonumber(want) then
      return redis.error_reply('lost: ' .. KEYS[2 + 2 * i] .. ' holds ' .. (held or 'no epoch') ..
                               ', below this node\'s claim ' .. want .. ' (Redis lost or rolled back its data)')
    end
    if held ~= want then
      return redis.error_reply('fenced: ' .. KEYS[1 + 2 * i] .. ' is owned by a newer assignment')
    end
    local written = redis.call('HGET', KEYS[1 + 2 * i], 'written')
    if written then
      local epoch, last = string.match(written, '^(%d+):(%d+)$')
      if epoch == want and tonumber(last) >= seq then
        return redis.error_reply('stale: ' .. KEYS[1 + 2 * i] .. ' holds a newer checkpoint')
      end
    end
  end
end
local a = partitions + 4
local function upsert(key)
  local count = tonumber(ARGV[a])
  a = a + 1
  for j = 1, count do
    redis.call('HSET', key, ARGV[a], ARGV[a + 1])
    a = a + 2
  end
  local deletes = tonumber(ARGV[a])
  a = a + 1
  for j = 1, deletes do
    redis.call('HDEL', key, ARGV[a])
    a = a + 1
  end
end
upsert(KEYS[1])
redis.call('HSET', KEYS[1], 'saved_at_ms', ARGV[2])
for i = 1, partitions do
  upsert(KEYS[1 + 2 * i])
  if ARGV[3 + i] ~= '' then
    redis.call('HSET', KEYS[1 + 2 * i], 'written', ARGV[3 + i] .. ':' .. ARGV[1])
  end
end
return partitions
)lua";

// A claim's epoch is above every earlier claim's: the stored epoch + 1, or
// Redis's own clock in microseconds when that is higher. So a claim made
// after Redis lost its data (and its counters) is still above every claim
// made before the loss, which a node that kept running may still hold.
// (Microseconds: about 1.8e15, exact in Lua's doubles up to 9e15.)
constexpr const char* claim_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + 1, now)
local text = string.format('%.0f', epoch)
redis.call('SET', KEYS[1], text)
return text
)lua";

// After Redis lost its data: puts back the epoch this node claimed, unless
// a later claim exists (then this node is not the owner any more). Two
// nodes that both held the partition before the loss (one of them without
// knowing it had lost it) end with the later claim's epoch, the owner's.
constexpr const char* reclaim_script = R"lua(
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
)lua";

// What one save writes to one hash.
struct hash_change {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> deleted;
};

// Moves one hash section into the command: the fields to set, then the
// fields to delete. (Moved, not copied: a checkpoint of every user is
// hundreds of MB, and each copy of it was resident at once.)
void add_section(std::vector<std::string>& args, hash_change&& change) {
  args.push_back(std::to_string(change.set.size()));
  for (auto& [field, value] : change.set) {
    args.push_back(std::move(field));
    args.push_back(std::move(value));
  }
  args.push_back(std::to_string(change.deleted.size()));
  std::move(change.deleted.begin(), change.deleted.end(), std::back_inserter(args));
  change = {};
}

} // namespace

std::optional<pipeline::store_snapshot> redis_snapshot_store::load_node() {
  auto c = redis_connect(address_);
  auto key = node_key();
  auto r = hgetall(c.get(), key);
  if (r->elements == 0)
    return std::nullopt;
  pipeline::store_snapshot out;
  decode_hash(*r, key, pipeline::no_partition, out);
  return out;
}

pipeline::store_snapshot redis_snapshot_store::load_partitions(
  const std::vector<std::int32_t>& partitions) {
  pipeline::store_snapshot out;
  auto c = redis_connect(address_);
  for (auto partition : partitions) {
    auto key = partition_key(partition);
    decode_hash(*hgetall(c.get(), key), key, partition, out);
  }
  return out;
}

pipeline::store_snapshot redis_snapshot_store::claim_partitions(
  const std::vector<std::int32_t>& partitions) {
  auto c = redis_connect(address_);
  for (auto partition : partitions) {
    auto r = redis_command(c.get(), {"EVAL", claim_script, "1", partition_key(partition) + ":owner"});
    std::lock_guard<std::mutex> lock(epochs_mutex_);
    epochs_[partition] = std::string(r->str, r->len);
  }
  return load_partitions(partitions);
}

void redis_snapshot_store::save(const pipeline::store_snapshot& s) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  hash_change node;
  std::map<std::int32_t, hash_change> by_partition;
  for (const auto& [partition, offset] : s.positions)
    by_partition[partition].set.emplace_back(position_field, std::to_string(offset));
  for (const auto& [id, state] : s.users) {
    auto owner = s.partition_of_user(id);
    auto& target = owner == pipeline::no_partition ? node : by_partition[owner];
    target.set.emplace_back(std::string(user_field) + id, pipeline::encode(state));
  }
  for (const auto& [id, state] : s.merchants)
    node.set.emplace_back(std::string(merchant_field) + id, pipeline::encode(state));
  for (const auto& [id, owner] : s.removed_users)
    (owner == pipeline::no_partition ? node : by_partition[owner]).deleted.push_back(std::string(user_field) + id);
  for (const auto& id : s.removed_merchants)
    node.deleted.push_back(std::string(merchant_field) + id);

  std::map<std::int32_t, std::string> epochs;
  {
    std::lock_guard<std::mutex> lock(epochs_mutex_);
    epochs = epochs_;
  }
  std::vector<std::string> eval{"EVAL", fenced_save_script, std::to_string(2 + 2 * by_partition.size()), node_key(),
                                lease_ ? lease_->key() : node_key() + ":lease"};
  for (const auto& [partition, unused] : by_partition) {
    eval.push_back(partition_key(partition));
    eval.push_back(partition_key(partition) + ":owner");
  }
  std::size_t fields = 0;
  for (const auto& [partition, change] : by_partition)
    fields += 2 + 2 * change.set.size() + change.deleted.size();
  eval.reserve(eval.size() + 3 + by_partition.size() + 2 + 2 * node.set.size() + node.deleted.size() + fields);
  eval.push_back(std::to_string(++saves_));
  eval.push_back(std::to_string(now_ms));
  eval.push_back(lease_ ? lease_->token() : "");
  for (const auto& [partition, unused] : by_partition) {
    auto epoch = epochs.find(partition);
    eval.push_back(epoch == epochs.end() ? "" : epoch->second);
  }
  add_section(eval, std::move(node));
  for (auto& [partition, change] : by_partition)
    add_section(eval, std::move(change));
  auto c = redis_connect(address_);
  try {
    redis_command(c.get(), std::move(eval));  // released once encoded
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).find("lost: ") == std::string_view::npos)
      throw;
    throw std::runtime_error(std::string(e.what()) + "; " + reclaim_lost_partitions(c.get(), epochs));
  }
}

std::string redis_snapshot_store::reclaim_lost_partitions(redisContext* c,
                                                          const std::map<std::int32_t, std::string>& epochs) {
  lost_checkpoints_.add();
  std::string taken, lost;
  for (const auto& [partition, epoch] : epochs) {
    auto r = redis_command(c, {"EVAL", reclaim_script, "1", partition_key(partition) + ":owner", epoch});
    auto& list = r->integer == 1 ? taken : lost;
    list += (list.empty() ? "" : ",") + std::to_string(partition);
  }
  std::string out = "the stored checkpoints are gone, or older than this node's claim";
  if (!taken.empty())
    out += "; partitions " + taken + " claimed again, the next checkpoint stores all their state";
  if (!lost.empty())
    out += "; partitions " + lost + " claimed by a later assignment: not this node's any more";
  return out;
}

bool redis_snapshot_store::reachable(const std::string& address) {
  try {
    auto c = redis_connect(address);
    redis_command(c.get(), {"PING"});
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace vigil::connectors
