#include "pipeline/connectors/redis_snapshot_store.h"

#include "pipeline/connectors/checkpoint_deltas.h"
#include "pipeline/connectors/node_name_lease.h"
#include "pipeline/connectors/redis_connection.h"
#include "pipeline/features/state_codec.h"
#include "pipeline/metrics/metrics_registry.h"

#include <algorithm>
#include <chrono>
#include <iostream>
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
      "the next checkpoint stores all state")),
    fold_failures_(pipeline::metrics().get_counter(
      "vigil_checkpoint_fold_failures_total",
      "Stored checkpoints whose deltas were not folded into their hashes yet (readers lay them over; the next save "
      "folds them)")) {}

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

// Reads one checkpoint hash, its committed deltas laid over it, into `out`;
// users get `owner` as their partition. True when the hash held anything.
bool read_hash(redisContext* c, const std::string& key, std::int32_t owner, pipeline::store_snapshot& out) {
  bool any = false;
  read_hash_with_deltas(c, key, [&](const std::string& from, std::string_view field, std::string_view value) {
    any = true;
    if (field == position_field && owner != pipeline::no_partition) {
      out.positions[owner] = std::stoll(std::string(value));
    } else if (starts_with(field, user_field)) {
      std::string id(field.substr(user_field.size()));
      if (value.empty()) {  // deleted by a later checkpoint
        out.users.erase(id);
        out.user_partitions.erase(id);
        return;
      }
      auto state = pipeline::decode_user_state(value);
      if (!state)
        throw std::runtime_error("redis: corrupt user in checkpoint " + from);
      out.users[id] = *state;
      if (owner != pipeline::no_partition)
        out.user_partitions[id] = owner;
    } else if (starts_with(field, merchant_field)) {
      std::string id(field.substr(merchant_field.size()));
      if (value.empty()) {
        out.merchants.erase(id);
        return;
      }
      auto state = pipeline::decode_merchant_state(value);
      if (!state)
        throw std::runtime_error("redis: corrupt merchant in checkpoint " + from);
      out.merchants[id] = *state;
    }
  });
  return any;
}

// The commit of a save whose changes are already in delta hashes (see
// checkpoint_deltas.h): O(partitions), whatever the checkpoint's size.
// KEYS: the node's hash, the node_name lease, then per partition its hash
// and its owner key. ARGV: this save's sequence number and time, the lease
// token ("" = no lease: not checked), then per partition the epoch this
// node claimed ("" = unclaimed: not checked); then for the node's hash and
// each partition's hash in KEYS order, the delta holding its changes ("" =
// none) and its new position ("" = none). Nothing is written unless the
// lease and every claimed partition are still this node's (fencing),
// nothing newer is stored (a save that timed out on the client can still
// reach Redis later, and must not overwrite newer state with older) and
// every delta is still there. Then, at once: each delta is listed after its
// hash's earlier ones, and each position set.
constexpr const char* fenced_commit_script = R"lua(
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
for h = 0, partitions do
  local delta = ARGV[a + 2 * h]
  if delta ~= '' and redis.call('EXISTS', delta) == 0 then
    return redis.error_reply('incomplete: ' .. delta .. ' is gone before its commit')
  end
end
local function commit(key, h)
  local delta, position = ARGV[a + 2 * h], ARGV[a + 2 * h + 1]
  if delta ~= '' then
    redis.call('PERSIST', delta)
    redis.call('RPUSH', key .. ':deltas', delta)
  end
  if position ~= '' then
    redis.call('HSET', key, 'position', position)
  end
end
commit(KEYS[1], 0)
redis.call('HSET', KEYS[1], 'saved_at_ms', ARGV[2])
for i = 1, partitions do
  commit(KEYS[1 + 2 * i], i)
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

} // namespace

std::optional<pipeline::store_snapshot> redis_snapshot_store::load_node() {
  auto c = redis_connect(address_);
  pipeline::store_snapshot out;
  if (!read_hash(c.get(), node_key(), pipeline::no_partition, out))
    return std::nullopt;
  return out;
}

pipeline::store_snapshot redis_snapshot_store::load_partitions(
  const std::vector<std::int32_t>& partitions) {
  pipeline::store_snapshot out;
  auto c = redis_connect(address_);
  for (auto partition : partitions)
    read_hash(c.get(), partition_key(partition), partition, out);
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
  std::map<std::int32_t, std::string> positions;
  for (const auto& [partition, offset] : s.positions) {
    by_partition[partition];
    positions[partition] = std::to_string(offset);
  }
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
  const auto seq = std::to_string(++saves_);
  auto c = redis_connect(address_);
  // The changes first, each hash's into a delta of its own, in chunks that
  // hold Redis a few milliseconds each; then the small fenced commit.
  std::vector<std::string> hashes{node_key()};
  for (const auto& [partition, unused] : by_partition)
    hashes.push_back(partition_key(partition));
  std::vector<hash_change> changes;
  changes.push_back(std::move(node));
  for (auto& [partition, change] : by_partition)
    changes.push_back(std::move(change));
  std::vector<std::string> deltas(hashes.size());  // "" = the hash did not change
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (changes[i].empty())
      continue;
    deltas[i] = hashes[i] + ":delta:" + node_name_ + ":" + std::to_string(now_ms) + ":" + seq;
    write_delta(c.get(), deltas[i], std::move(changes[i]));
  }

  std::vector<std::string> eval{"EVAL", fenced_commit_script, std::to_string(2 + 2 * by_partition.size()),
                                node_key(), lease_ ? lease_->key() : node_key() + ":lease"};
  for (const auto& [partition, unused] : by_partition) {
    eval.push_back(partition_key(partition));
    eval.push_back(partition_key(partition) + ":owner");
  }
  eval.push_back(seq);
  eval.push_back(std::to_string(now_ms));
  eval.push_back(lease_ ? lease_->token() : "");
  for (const auto& [partition, unused] : by_partition) {
    auto epoch = epochs.find(partition);
    eval.push_back(epoch == epochs.end() ? "" : epoch->second);
  }
  eval.push_back(deltas[0]);
  eval.push_back("");  // the node's hash has no position
  std::size_t h = 1;
  for (const auto& [partition, unused] : by_partition) {
    eval.push_back(deltas[h++]);
    eval.push_back(positions.count(partition) ? positions.at(partition) : "");
  }
  try {
    redis_command(c.get(), eval);
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).find("lost: ") == std::string_view::npos)
      throw;
    throw std::runtime_error(std::string(e.what()) + "; " + reclaim_lost_partitions(c.get(), epochs));
  }
  // Stored. Folding the deltas in is housekeeping: readers lay unfolded
  // deltas over their hash, and the next save folds what this one left.
  // Every hash this save covers, changed or not: a fold an earlier save
  // left is finished by the next one.
  for (const auto& hash : hashes) {
    try {
      compact_deltas(c.get(), hash);
    } catch (const std::exception& e) {
      fold_failures_.add();
      std::cerr << "vigil: checkpoint stored, its deltas not folded yet: " << e.what() << "\n";
    }
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
