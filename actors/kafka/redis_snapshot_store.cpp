#include "actors/kafka/redis_snapshot_store.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <vector>
#include <stdexcept>

namespace vigil::actors {
namespace {

using context_ptr = std::unique_ptr<redisContext, decltype(&redisFree)>;
using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

std::pair<std::string, int> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return {address, 6379};
  return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

context_ptr connect(const std::string& host, int port) {
  timeval timeout{2, 0};
  context_ptr c{redisConnectWithTimeout(host.c_str(), port, timeout), &redisFree};
  if (!c || c->err)
    throw std::runtime_error("redis " + host + ":" + std::to_string(port) + ": " +
                             (c ? c->errstr : "cannot allocate context"));
  redisSetTimeout(c.get(), timeval{10, 0});
  return c;
}

reply_ptr command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  reply_ptr r{static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), argv.data(),
                                                        lengths.data())),
              &freeReplyObject};
  if (!r)
    throw std::runtime_error(std::string("redis: ") + c->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(std::string("redis: ") + r->str);
  return r;
}

pipeline::store_snapshot decode_or_throw(const redisReply& r, const std::string& key) {
  auto snapshot = pipeline::decode_snapshot(std::string_view(r.str, r.len));
  if (!snapshot)
    throw std::runtime_error("redis: checkpoint " + key + " is corrupt");
  return std::move(*snapshot);
}

} // namespace

std::string checkpoint_prefix(const std::string& group, const std::string& topic) {
  return "vigil:checkpoint:" + group + ":" + topic;
}

redis_snapshot_store::redis_snapshot_store(std::string address, std::string prefix,
                                           std::string node_name)
  : prefix_(std::move(prefix)), node_name_(std::move(node_name)) {
  std::tie(host_, port_) = split_address(address);
}

std::string redis_snapshot_store::partition_key(std::int32_t partition) const {
  return prefix_ + ":partition:" + std::to_string(partition);
}

std::string redis_snapshot_store::node_key() const {
  return prefix_ + ":node:" + node_name_;
}

std::optional<pipeline::store_snapshot> redis_snapshot_store::load_node() {
  auto c = connect(host_, port_);
  auto key = node_key();
  auto r = command(c.get(), {"GET", key});
  if (r->type == REDIS_REPLY_NIL)
    return std::nullopt;
  return decode_or_throw(*r, key);
}

pipeline::store_snapshot redis_snapshot_store::load_partitions(
  const std::vector<std::int32_t>& partitions) {
  pipeline::store_snapshot out;
  if (partitions.empty())
    return out;
  std::vector<std::string> args{"MGET"};
  for (auto partition : partitions)
    args.push_back(partition_key(partition));
  auto c = connect(host_, port_);
  auto r = command(c.get(), args);
  if (r->type != REDIS_REPLY_ARRAY || r->elements != partitions.size())
    throw std::runtime_error("redis: unexpected MGET reply");
  for (std::size_t i = 0; i < r->elements; ++i)
    if (r->element[i]->type == REDIS_REPLY_STRING)
      out.absorb(decode_or_throw(*r->element[i], args[i + 1]));
  return out;
}

pipeline::store_snapshot redis_snapshot_store::claim_partitions(
  const std::vector<std::int32_t>& partitions) {
  auto c = connect(host_, port_);
  for (auto partition : partitions) {
    auto r = command(c.get(), {"INCR", partition_key(partition) + ":owner"});
    std::lock_guard<std::mutex> lock(epochs_mutex_);
    epochs_[partition] = std::to_string(r->integer);
  }
  return load_partitions(partitions);
}

namespace {

// KEYS: node key, node time key, then per partition its state key and its
// owner key. ARGV: node blob, time, then per partition its blob and the
// epoch this node claimed ("" = unclaimed: not checked).
constexpr const char* fenced_save_script = R"lua(
local n = (#KEYS - 2) / 2
for i = 1, n do
  local want = ARGV[2 + 2 * i]
  if want ~= '' and redis.call('GET', KEYS[2 + 2 * i]) ~= want then
    return redis.error_reply('fenced: ' .. KEYS[1 + 2 * i] .. ' is owned by a newer assignment')
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
for i = 1, n do
  redis.call('SET', KEYS[1 + 2 * i], ARGV[1 + 2 * i])
end
return n
)lua";

} // namespace

void redis_snapshot_store::save(const pipeline::store_snapshot& s) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::string> keys{node_key(), node_key() + ":saved_at_ms"};
  std::vector<std::string> args{pipeline::encode_snapshot(pipeline::node_part(s)),
                                std::to_string(now_ms)};
  std::map<std::int32_t, std::string> epochs;
  {
    std::lock_guard<std::mutex> lock(epochs_mutex_);
    epochs = epochs_;
  }
  for (const auto& [partition, offset] : s.positions) {
    keys.push_back(partition_key(partition));
    keys.push_back(partition_key(partition) + ":owner");
    args.push_back(pipeline::encode_snapshot(pipeline::partition_part(s, partition)));
    auto epoch = epochs.find(partition);
    args.push_back(epoch == epochs.end() ? "" : epoch->second);
  }
  std::vector<std::string> eval{"EVAL", fenced_save_script, std::to_string(keys.size())};
  eval.insert(eval.end(), keys.begin(), keys.end());
  eval.insert(eval.end(), args.begin(), args.end());
  auto c = connect(host_, port_);
  command(c.get(), eval);
}

bool redis_snapshot_store::reachable(const std::string& address) {
  try {
    auto [host, port] = split_address(address);
    auto c = connect(host, port);
    command(c.get(), {"PING"});
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace vigil::actors
