#include "pipeline/connectors/cluster_settings.h"

#include "pipeline/connectors/redis_connection.h"

#include <stdexcept>

namespace vigil::connectors {
namespace {

// One change and the version it makes, atomically.
constexpr const char* publish_script = R"lua(
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'origin', ARGV[3])
return version
)lua";

} // namespace

cluster_settings_store::cluster_settings_store(std::string address, std::string prefix)
  : address_(std::move(address)), key_(std::move(prefix) + ":settings") {}

std::int64_t cluster_settings_store::publish(const std::string& field, const std::string& value,
                                             const std::string& origin) {
  auto c = redis_connect(address_);
  auto r = redis_command(c.get(), {"EVAL", publish_script, "1", key_, field, value, origin});
  if (r->type != REDIS_REPLY_INTEGER)
    throw std::runtime_error("unexpected reply publishing the cluster's settings");
  return r->integer;
}

std::int64_t cluster_settings_store::publish_config(const nlohmann::json& live, const std::string& origin) {
  return publish("live", live.dump(), origin);
}

std::int64_t cluster_settings_store::publish_model(std::int32_t version, const std::string& origin) {
  return publish("model", std::to_string(version), origin);
}

std::optional<shared_settings> cluster_settings_store::read() {
  auto c = redis_connect(address_);
  auto r = redis_command(c.get(), {"HMGET", key_, "version", "live", "model", "origin"});
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
    throw std::runtime_error("unexpected reply reading the cluster's settings");
  auto text = [&](std::size_t i) -> std::optional<std::string> {
    const auto* e = r->element[i];
    if (e->type != REDIS_REPLY_STRING)
      return std::nullopt;
    return std::string(e->str, e->len);
  };
  auto version = text(0);
  if (!version)
    return std::nullopt;
  shared_settings s;
  try {
    s.version = std::stoll(*version);
    if (auto live = text(1)) {
      s.live = nlohmann::json::parse(*live);
      if (!s.live.is_object())
        throw std::runtime_error("not an object");
    }
    if (auto model = text(2))
      s.model = std::stoi(*model);
  } catch (const std::exception& e) {
    throw std::runtime_error("the cluster's settings in " + key_ + " are corrupt: " + e.what());
  }
  s.origin = text(3).value_or("");
  return s;
}

} // namespace vigil::connectors
