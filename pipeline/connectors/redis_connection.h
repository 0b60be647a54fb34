#pragma once
// Short-lived Redis connections (hiredis) for checkpoints and leases: every
// call connects, runs its commands and closes. Errors throw
// std::runtime_error with Redis's message.

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vigil::connectors {

using redis_context_ptr = std::unique_ptr<redisContext, decltype(&redisFree)>;
using redis_reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

/// "host:port" -> (host, port); the port defaults to 6379.
std::pair<std::string, int> split_redis_address(const std::string& address);
/// Connects within 2 s; commands time out after 10 s.
redis_context_ptr redis_connect(const std::string& address);
/// Runs one command (binary-safe arguments); an error reply throws.
redis_reply_ptr redis_command(redisContext* c, const std::vector<std::string>& args);
/// The same for a command too large to keep twice (a checkpoint of every
/// user is hundreds of MB): the arguments are released once encoded, before
/// hiredis copies the encoding into its output buffer.
redis_reply_ptr redis_command(redisContext* c, std::vector<std::string>&& args);

} // namespace vigil::connectors
