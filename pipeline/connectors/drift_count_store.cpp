#include "pipeline/connectors/drift_count_store.h"

#include "pipeline/connectors/redis_connection.h"

#include <algorithm>
#include <stdexcept>

namespace vigil::connectors {
namespace {

constexpr std::int64_t minute_key_seconds = 25 * 3600;
constexpr std::int64_t day_key_seconds = 32 * 24 * 3600;

// KEYS[1] the events hash, KEYS[2..] buckets; ARGV: writer, sequence,
// oldest, newest, the events' TTL, then per bucket its TTL and its counts
// as "field=delta,...".
constexpr const char* add_script = R"lua(
local seen = tonumber(redis.call('HGET', KEYS[1], 'seq:' .. ARGV[1]) or '0')
if tonumber(ARGV[2]) <= seen then return 0 end
redis.call('HSET', KEYS[1], 'seq:' .. ARGV[1], ARGV[2])
local oldest = redis.call('HGET', KEYS[1], 'oldest')
if not oldest or tonumber(ARGV[3]) < tonumber(oldest) then redis.call('HSET', KEYS[1], 'oldest', ARGV[3]) end
local newest = redis.call('HGET', KEYS[1], 'newest')
if not newest or tonumber(ARGV[4]) > tonumber(newest) then redis.call('HSET', KEYS[1], 'newest', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
for i = 2, #KEYS do
  local at = 6 + 2 * (i - 2)
  for field, delta in string.gmatch(ARGV[at + 1], '(%w+)=(%d+)') do
    redis.call('HINCRBY', KEYS[i], field, delta)
  end
  redis.call('EXPIRE', KEYS[i], ARGV[at])
end
return 1
)lua";

std::string encoded(const models::drift_bucket_counts& b) {
  std::string out = "r=" + std::to_string(b.rows);
  for (std::size_t i = 0; i < b.counts.size(); ++i)
    if (b.counts[i])
      out += "," + std::to_string(i) + "=" + std::to_string(b.counts[i]);
  return out;
}

std::uint64_t number(const redisReply* r) {
  if (r->type != REDIS_REPLY_STRING)
    throw std::runtime_error("unexpected reply reading drift counts");
  return std::stoull(std::string(r->str, r->len));
}

} // namespace

drift_count_store::drift_count_store(std::string address, std::string prefix, std::string writer,
                                     std::size_t max_counters_per_call)
  : address_(std::move(address)), prefix_(std::move(prefix)), writer_(std::move(writer)),
    max_counters_per_call_(std::max<std::size_t>(1, max_counters_per_call)) {}

std::string drift_count_store::key(int model_version, const std::string& part) const {
  return prefix_ + ":drift:v" + std::to_string(model_version) + ":" + part;
}

namespace {

std::size_t counters_written(const models::drift_bucket_counts& b) {
  return 1 + static_cast<std::size_t>(std::count_if(b.counts.begin(), b.counts.end(),
                                                    [](std::uint64_t c) { return c != 0; }));
}

// A share as calls of at most `limit` counters (a bigger bucket alone):
// in each, minute_buckets go to their 10-minute keys and day_buckets to
// their day keys (a day's own counts and its 10-minute buckets', summed by
// models::add_share, as the cluster's totals hold them), days in order.
std::vector<models::drift_counts> calls_of(const models::drift_counts& share, std::size_t limit) {
  models::drift_counts whole;
  models::add_share(whole, share);
  std::sort(whole.day_buckets.begin(), whole.day_buckets.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  std::vector<models::drift_counts> calls;
  std::size_t in_call = 0;
  auto room_for = [&](const models::drift_bucket_counts& b) -> models::drift_counts& {
    const auto n = counters_written(b);
    if (calls.empty() || in_call + n > limit) {
      calls.emplace_back();
      auto& c = calls.back();
      c.model_version = share.model_version;
      c.counters = share.counters;
      c.oldest_event_ms = share.oldest_event_ms;
      c.newest_event_ms = share.newest_event_ms;
      in_call = 0;
    }
    in_call += n;
    return calls.back();
  };
  for (const auto& b : whole.minute_buckets)
    room_for(b).minute_buckets.push_back(b);
  for (const auto& b : whole.day_buckets)
    room_for(b).day_buckets.push_back(b);
  return calls;
}

} // namespace

drift_count_store::added drift_count_store::add(const models::drift_counts& share, std::uint64_t first_sequence) {
  added out{first_sequence, 0, 0};
  if (share.empty())
    return out;
  auto c = redis_connect(address_);
  for (const auto& call : calls_of(share, max_counters_per_call_)) {
    out.applied += add_call(c.get(), call, out.next_sequence) ? 1 : 0;
    ++out.next_sequence;
    ++out.calls;
  }
  return out;
}

bool drift_count_store::add_call(redisContext* c, const models::drift_counts& call, std::uint64_t sequence) {
  std::vector<std::string> keys{key(call.model_version, "events")};
  std::vector<std::string> values{writer_, std::to_string(sequence), std::to_string(call.oldest_event_ms),
                                  std::to_string(call.newest_event_ms), std::to_string(day_key_seconds)};
  auto bucket = [&](const std::string& part, std::int64_t ttl, const std::string& counts) {
    keys.push_back(key(call.model_version, part));
    values.push_back(std::to_string(ttl));
    values.push_back(counts);
  };
  for (const auto& b : call.minute_buckets)
    bucket("m:" + std::to_string(b.id), minute_key_seconds, encoded(b));
  for (const auto& b : call.day_buckets)
    bucket("d:" + std::to_string(b.id), day_key_seconds, encoded(b));
  std::vector<std::string> args{"EVAL", add_script, std::to_string(keys.size())};
  args.insert(args.end(), keys.begin(), keys.end());
  args.insert(args.end(), values.begin(), values.end());
  auto r = redis_command(c, args);
  if (r->type != REDIS_REPLY_INTEGER)
    throw std::runtime_error("unexpected reply sharing drift counts");
  return r->integer == 1;
}

models::drift_counts drift_count_store::totals(int model_version, std::size_t counters) {
  models::drift_counts totals;
  totals.model_version = model_version;
  totals.counters = counters;
  auto c = redis_connect(address_);
  auto events = redis_command(c.get(), {"HMGET", key(model_version, "events"), "oldest", "newest"});
  if (events->type != REDIS_REPLY_ARRAY || events->elements != 2)
    throw std::runtime_error("unexpected reply reading drift counts");
  if (events->element[0]->type == REDIS_REPLY_NIL || events->element[1]->type == REDIS_REPLY_NIL)
    return totals;  // nothing shared yet
  totals.oldest_event_ms = static_cast<std::int64_t>(number(events->element[0]));
  totals.newest_event_ms = static_cast<std::int64_t>(number(events->element[1]));
  // One pipelined read of every bucket the windows can hold.
  struct wanted {
    std::vector<models::drift_bucket_counts>* into;
    std::int64_t id;
  };
  std::vector<wanted> reads;
  auto want = [&](std::vector<models::drift_bucket_counts>& into, std::int64_t newest, std::int64_t kept) {
    for (std::int64_t id = std::max<std::int64_t>(0, newest - kept + 1); id <= newest; ++id)
      reads.push_back({&into, id});
  };
  want(totals.minute_buckets, totals.newest_event_ms / models::drift_tracker::minute_bucket_ms, 144);
  want(totals.day_buckets, totals.newest_event_ms / models::drift_tracker::day_bucket_ms, 31);
  for (const auto& w : reads) {
    auto part = std::string(w.into == &totals.minute_buckets ? "m:" : "d:") + std::to_string(w.id);
    auto k = key(model_version, part);
    const char* argv[] = {"HGETALL", k.c_str()};
    const size_t lengths[] = {7, k.size()};
    if (redisAppendCommandArgv(c.get(), 2, argv, lengths) != REDIS_OK)
      throw std::runtime_error(std::string("redis: ") + c->errstr);
  }
  for (const auto& w : reads) {
    void* raw = nullptr;
    if (redisGetReply(c.get(), &raw) != REDIS_OK || !raw)
      throw std::runtime_error(std::string("redis: ") + c->errstr);
    redis_reply_ptr r{static_cast<redisReply*>(raw), &freeReplyObject};
    if (r->type != REDIS_REPLY_ARRAY)
      throw std::runtime_error("unexpected reply reading drift counts");
    if (r->elements == 0)
      continue;
    models::drift_bucket_counts b{w.id, 0, std::vector<std::uint64_t>(counters, 0)};
    for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
      const auto field = std::string(r->element[i]->str, r->element[i]->len);
      const auto value = number(r->element[i + 1]);
      if (field == "r")
        b.rows = static_cast<std::int64_t>(value);
      else if (auto index = std::stoull(field); index < counters)
        b.counts[index] = value;
    }
    w.into->push_back(std::move(b));
  }
  return totals;
}

} // namespace vigil::connectors
