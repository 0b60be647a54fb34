#include "actors/kafka/redis_snapshot_store.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
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

reply_ptr command(redisContext* c, int argc, const char** argv, const size_t* lengths) {
  reply_ptr r{static_cast<redisReply*>(redisCommandArgv(c, argc, argv, lengths)), &freeReplyObject};
  if (!r)
    throw std::runtime_error(std::string("redis: ") + c->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(std::string("redis: ") + r->str);
  return r;
}

} // namespace

redis_snapshot_store::redis_snapshot_store(std::string address, std::string key)
  : key_(std::move(key)) {
  std::tie(host_, port_) = split_address(address);
}

std::optional<std::string> redis_snapshot_store::load() {
  auto c = connect(host_, port_);
  const char* argv[] = {"GET", key_.c_str()};
  size_t lengths[] = {3, key_.size()};
  auto r = command(c.get(), 2, argv, lengths);
  if (r->type == REDIS_REPLY_NIL)
    return std::nullopt;
  return std::string(r->str, r->len);
}

void redis_snapshot_store::save(const std::string& blob) {
  auto c = connect(host_, port_);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  std::string meta_key = key_ + ":saved_at_ms", meta = std::to_string(now_ms);
  const char* multi[] = {"MULTI"};
  size_t multi_len[] = {5};
  command(c.get(), 1, multi, multi_len);
  const char* set_blob[] = {"SET", key_.c_str(), blob.data()};
  size_t set_blob_len[] = {3, key_.size(), blob.size()};
  command(c.get(), 3, set_blob, set_blob_len);
  const char* set_meta[] = {"SET", meta_key.c_str(), meta.c_str()};
  size_t set_meta_len[] = {3, meta_key.size(), meta.size()};
  command(c.get(), 3, set_meta, set_meta_len);
  const char* exec[] = {"EXEC"};
  size_t exec_len[] = {4};
  auto r = command(c.get(), 1, exec, exec_len);
  if (r->type != REDIS_REPLY_ARRAY)
    throw std::runtime_error("redis: checkpoint transaction aborted");
}

bool redis_snapshot_store::reachable(const std::string& address) {
  try {
    auto [host, port] = split_address(address);
    auto c = connect(host, port);
    const char* argv[] = {"PING"};
    size_t lengths[] = {4};
    command(c.get(), 1, argv, lengths);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace vigil::actors
