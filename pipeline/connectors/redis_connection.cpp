#include "pipeline/connectors/redis_connection.h"

#include <stdexcept>

namespace vigil::connectors {

std::pair<std::string, int> split_redis_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return {address, 6379};
  return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

redis_context_ptr redis_connect(const std::string& address) {
  auto [host, port] = split_redis_address(address);
  timeval timeout{2, 0};
  redis_context_ptr c{redisConnectWithTimeout(host.c_str(), port, timeout), &redisFree};
  if (!c || c->err)
    throw std::runtime_error("redis " + address + ": " + (c ? c->errstr : "cannot allocate context"));
  redisSetTimeout(c.get(), timeval{10, 0});
  return c;
}

namespace {

// Owns a reply; a missing reply (I/O error) or an error reply throws.
redis_reply_ptr checked(redisContext* c, void* reply) {
  redis_reply_ptr r{static_cast<redisReply*>(reply), &freeReplyObject};
  if (!r)
    throw std::runtime_error(std::string("redis: ") + c->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(std::string("redis: ") + r->str);
  return r;
}

} // namespace

redis_reply_ptr redis_command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  return checked(c, redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lengths.data()));
}

redis_reply_ptr redis_command(redisContext* c, std::vector<std::string>&& args) {
  sds command = nullptr;
  {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (redisFormatSdsCommandArgv(&command, static_cast<int>(args.size()), argv.data(), lengths.data()) < 0)
      throw std::runtime_error("redis: out of memory formatting a command");
  }
  std::vector<std::string>().swap(args);
  const int appended = redisAppendFormattedCommand(c, command, sdslen(command));
  redisFreeSdsCommand(command);
  void* reply = nullptr;
  if (appended != REDIS_OK || redisGetReply(c, &reply) != REDIS_OK)
    reply = nullptr;
  return checked(c, reply);
}

} // namespace vigil::connectors
