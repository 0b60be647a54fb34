#include "pipeline/connectors/merchant_shard_store.h"

#include "pipeline/cluster/merchant_placement.h"
#include "pipeline/connectors/redis_connection.h"
#include "pipeline/features/state_codec.h"

#include <map>
#include <stdexcept>

namespace vigil::connectors {
namespace {

// KEYS: holder, epoch. ARGV: holder value, TTL ms. Returns {epoch, 1 when
// the epoch was missing}, or {0, 0} when another holder has the lease.
constexpr const char* claim_script = R"lua(
local now = redis.call('GET', KEYS[1])
if now and now ~= ARGV[1] then return {0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local epoch = redis.call('GET', KEYS[2])
if now and epoch then return {tonumber(epoch), 0} end
return {redis.call('INCR', KEYS[2]), epoch and 0 or 1}
)lua";

// KEYS: the holder keys. Returns 1 or 0 per key: renewed, or not ours.
constexpr const char* renew_script = R"lua(
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
)lua";

constexpr const char* release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

// KEYS: holder, log. ARGV: holder value, entry.
constexpr const char* append_script = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
)lua";

// KEYS: holder and log of each shard. ARGV: holder value, then per shard
// its number of entries n and its n entries. Per shard 1, or 0 when its
// lease is not this holder's.
constexpr const char* append_many_script = R"lua(
local out = {}
local a = 2
for i = 1, #KEYS / 2 do
  local n = tonumber(ARGV[a])
  if redis.call('GET', KEYS[2 * i - 1]) == ARGV[1] then
    for k = 1, n do redis.call('RPUSH', KEYS[2 * i], ARGV[a + k]) end
    out[i] = 1
  else
    out[i] = 0
  end
  a = a + n + 1
end
return out
)lua";

// KEYS: holder, shard hash, log. ARGV: holder value, marks, answers,
// number of upserts n, then n (field, value) pairs, then the fields to
// delete.
constexpr const char* checkpoint_script = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'marks', ARGV[2], 'answers', ARGV[3])
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  redis.call('HSET', KEYS[2], ARGV[5 + 2 * i], ARGV[6 + 2 * i])
end
for i = 5 + 2 * n, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
end
redis.call('DEL', KEYS[3])
return 1
)lua";

// KEYS: partition checkpoint hashes. Their positions, false where none.
constexpr const char* positions_script = R"lua(
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGET', key, 'position') end
return out
)lua";

bool returned_one(const redis_reply_ptr& r) {
  if (r->type != REDIS_REPLY_INTEGER)
    throw std::runtime_error("unexpected reply from a merchant shard script");
  return r->integer == 1;
}

// A script's per-item answer: true where it returned 1.
std::vector<bool> ones_per_item(const redis_reply_ptr& r, std::size_t items, const char* doing) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != items)
    throw std::runtime_error(std::string("unexpected reply ") + doing);
  std::vector<bool> out;
  for (std::size_t i = 0; i < r->elements; ++i)
    out.push_back(r->element[i]->type == REDIS_REPLY_INTEGER && r->element[i]->integer == 1);
  return out;
}

} // namespace

struct merchant_shard_store::connection_holder {
  redis_context_ptr context{nullptr, &redisFree};
};

merchant_shard_store::merchant_shard_store(std::string address, std::string prefix, std::string holder,
                                           std::chrono::milliseconds lease_ttl)
  : address_(std::move(address)), prefix_(std::move(prefix)), holder_(std::move(holder)), ttl_(lease_ttl),
    conn_(std::make_unique<connection_holder>()) {}

merchant_shard_store::~merchant_shard_store() = default;

std::string merchant_shard_store::key(int shard) const { return prefix_ + ":merchants:" + std::to_string(shard); }

redisContext* merchant_shard_store::connection() {
  if (!conn_->context) {
    conn_->context = redis_connect(address_);
    // Short: a holder blocked on a stalled Redis answers no one meanwhile.
    redisSetTimeout(conn_->context.get(), timeval{2, 0});
  }
  return conn_->context.get();
}

template <class F>
auto merchant_shard_store::guarded(F&& f) -> decltype(f(static_cast<redisContext*>(nullptr))) {
  try {
    return f(connection());
  } catch (...) {
    conn_->context.reset();  // a broken or timed-out connection is not reused
    throw;
  }
}

std::optional<merchant_shard_store::lease> merchant_shard_store::claim(int shard) {
  return guarded([&](redisContext* c) -> std::optional<lease> {
    auto r = redis_command(c, {"EVAL", claim_script, "2", key(shard) + ":holder", key(shard) + ":epoch", holder_,
                               std::to_string(ttl_.count())});
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER)
      throw std::runtime_error("unexpected reply claiming merchant shard " + std::to_string(shard));
    if (r->element[0]->integer == 0)
      return std::nullopt;
    return lease{r->element[0]->integer, r->element[1]->integer == 1};
  });
}

std::vector<bool> merchant_shard_store::renew(const std::vector<int>& shards) {
  if (shards.empty())
    return {};
  std::vector<std::string> args{"EVAL", renew_script, std::to_string(shards.size())};
  for (int shard : shards)
    args.push_back(key(shard) + ":holder");
  args.push_back(holder_);
  args.push_back(std::to_string(ttl_.count()));
  return guarded([&](redisContext* c) {
    return ones_per_item(redis_command(c, args), shards.size(), "renewing merchant shard leases");
  });
}

void merchant_shard_store::release(int shard) {
  guarded([&](redisContext* c) {
    return returned_one(redis_command(c, {"EVAL", release_script, "1", key(shard) + ":holder", holder_}));
  });
}

bool merchant_shard_store::append(int shard, const std::string& entry) {
  return guarded([&](redisContext* c) {
    return returned_one(
      redis_command(c, {"EVAL", append_script, "2", key(shard) + ":holder", key(shard) + ":log", holder_, entry}));
  });
}

std::vector<bool> merchant_shard_store::append_many(
  const std::vector<std::pair<int, std::vector<std::string>>>& entries) {
  if (entries.empty())
    return {};
  std::vector<std::string> args{"EVAL", append_many_script, std::to_string(2 * entries.size())};
  for (const auto& [shard, logged] : entries) {
    args.push_back(key(shard) + ":holder");
    args.push_back(key(shard) + ":log");
  }
  args.push_back(holder_);
  for (const auto& [shard, logged] : entries) {
    args.push_back(std::to_string(logged.size()));
    args.insert(args.end(), logged.begin(), logged.end());
  }
  return guarded([&](redisContext* c) {
    return ones_per_item(redis_command(c, args), entries.size(), "appending to merchant shard logs");
  });
}

bool merchant_shard_store::checkpoint(int shard, const pipeline::store_snapshot& changed,
                                      const cluster::high_water_marks& marks, const std::string& answers) {
  std::vector<std::string> args{"EVAL",  checkpoint_script,  "3", key(shard) + ":holder", key(shard),
                                key(shard) + ":log", holder_, cluster::encode_marks(marks), answers,
                                std::to_string(changed.merchants.size())};
  args.reserve(args.size() + 2 * changed.merchants.size() + changed.removed_merchants.size());
  for (const auto& [id, state] : changed.merchants) {
    args.push_back("m:" + id);
    args.push_back(pipeline::encode(state));
  }
  for (const auto& id : changed.removed_merchants)
    args.push_back("m:" + id);
  return guarded([&](redisContext* c) { return returned_one(redis_command(c, args)); });
}

merchant_shard_store::stored merchant_shard_store::load(int shard) {
  return guarded([&](redisContext* c) {
    stored out;
    auto all = redis_command(c, {"HGETALL", key(shard)});
    if (all->type != REDIS_REPLY_ARRAY || all->elements % 2 != 0)
      throw std::runtime_error("unexpected reply reading merchant shard " + std::to_string(shard));
    for (std::size_t i = 0; i + 1 < all->elements; i += 2) {
      std::string field(all->element[i]->str, all->element[i]->len);
      std::string_view value(all->element[i + 1]->str, all->element[i + 1]->len);
      if (field == "marks") {
        auto marks = cluster::decode_marks(value);
        if (!marks)
          throw std::runtime_error("corrupt high-water marks in merchant shard " + std::to_string(shard));
        out.marks = std::move(*marks);
      } else if (field == "answers") {
        out.answers = std::string(value);
      } else if (field.rfind("m:", 0) == 0) {
        auto state = pipeline::decode_merchant_state(value);
        if (!state)
          throw std::runtime_error("corrupt merchant " + field.substr(2) + " in merchant shard " +
                                   std::to_string(shard));
        out.merchants.emplace(field.substr(2), std::move(*state));
      }
    }
    auto log = redis_command(c, {"LRANGE", key(shard) + ":log", "0", "-1"});
    if (log->type != REDIS_REPLY_ARRAY)
      throw std::runtime_error("unexpected reply reading merchant shard " + std::to_string(shard) + "'s log");
    for (std::size_t i = 0; i < log->elements; ++i)
      out.log.emplace_back(log->element[i]->str, log->element[i]->len);
    return out;
  });
}

std::map<std::int32_t, std::int64_t>
merchant_shard_store::checkpointed_positions(const std::vector<std::int32_t>& partitions) {
  std::map<std::int32_t, std::int64_t> out;
  if (partitions.empty())
    return out;
  // The partition checkpoints' layout: see redis_snapshot_store.h.
  std::vector<std::string> args{"EVAL", positions_script, std::to_string(partitions.size())};
  for (auto p : partitions)
    args.push_back(prefix_ + ":partition:" + std::to_string(p));
  return guarded([&](redisContext* c) {
    auto r = redis_command(c, args);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != partitions.size())
      throw std::runtime_error("unexpected reply reading partition positions");
    for (std::size_t i = 0; i < r->elements; ++i)
      if (r->element[i]->type == REDIS_REPLY_STRING)
        out[partitions[i]] = std::stoll(std::string(r->element[i]->str, r->element[i]->len));
    return out;
  });
}

pipeline::merchant_map load_all_merchant_shards(const std::string& address, const std::string& prefix,
                                                std::int64_t allowed_lateness_ms) {
  merchant_shard_store store(address, prefix, "", std::chrono::seconds(1));
  pipeline::merchant_map all;
  for (int g = 0; g < cluster::merchant_shard_count; ++g) {
    auto stored = store.load(g);
    cluster::hosted_merchant_shard shard(allowed_lateness_ms, {});
    shard.install(std::move(stored.merchants), std::move(stored.marks));
    for (const auto& entry : stored.log) {
      auto updates = cluster::decode_merchant_updates(entry);
      if (!updates)
        throw std::runtime_error("corrupt log entry in merchant shard " + std::to_string(g));
      shard.replay(*updates);
    }
    for (const auto& [id, state] : shard.merchants())
      all.emplace(id, state);
  }
  return all;
}

} // namespace vigil::connectors
