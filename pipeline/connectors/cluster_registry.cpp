#include "pipeline/connectors/cluster_registry.h"

#include "pipeline/connectors/redis_connection.h"
#include "pipeline/metrics/metrics_registry.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace vigil::connectors {
namespace {

// Deletes the record only if it still names this incarnation.
constexpr const char* withdraw_script = R"lua(
local record = redis.call('GET', KEYS[1])
if record and string.find(record, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// KEYS: the lease. ARGV: this incarnation's value, TTL ms. The holder's value.
constexpr const char* coordinator_script = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
)lua";

constexpr const char* resign_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string lease_value(const cluster::member_record& self) { return self.node_name + "/" + self.incarnation; }

} // namespace

cluster_registry::cluster_registry(std::string address, std::string prefix, std::chrono::milliseconds ttl)
  : address_(std::move(address)), prefix_(prefix + ":member:"), coordinator_key_(prefix + ":coordinator"), ttl_(ttl),
    malformed_(pipeline::metrics().get_counter("vigil_cluster_registry_malformed_total",
                                               "Cluster member records in Redis skipped: malformed, or beyond "
                                               "the most members a node reads")) {}

std::string cluster_registry::member_key(const std::string& node_name) const {
  return prefix_ + node_name;
}

void cluster_registry::announce(const cluster::member_record& self) {
  auto c = redis_connect(address_);
  redis_command(c.get(), {"SET", member_key(self.node_name), cluster::to_json(self).dump(), "PX",
                          std::to_string(ttl_.count())});
}

std::vector<cluster::member_record> cluster_registry::members() {
  auto c = redis_connect(address_);
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto r = redis_command(c.get(), {"SCAN", cursor, "MATCH", prefix_ + "*", "COUNT", "100"});
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
      throw std::runtime_error("unexpected SCAN reply from Redis");
    cursor.assign(r->element[0]->str, r->element[0]->len);
    const auto* batch = r->element[1];
    for (std::size_t i = 0; i < batch->elements; ++i)
      keys.emplace_back(batch->element[i]->str, batch->element[i]->len);
  } while (cursor != "0" && keys.size() <= 4 * max_members);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // SCAN may repeat a key
  if (keys.size() > max_members) {
    malformed_.add(keys.size() - max_members);
    keys.resize(max_members);
  }
  std::vector<cluster::member_record> out;
  if (keys.empty())
    return out;
  std::vector<std::string> mget{"MGET"};
  mget.insert(mget.end(), keys.begin(), keys.end());
  auto r = redis_command(c.get(), mget);
  for (std::size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
    const auto* value = r->element[i];
    if (value->type != REDIS_REPLY_STRING)
      continue;  // expired between SCAN and MGET
    auto record = cluster::member_record_from_json(std::string(value->str, value->len));
    if (record && member_key(record->node_name) == keys[i])
      out.push_back(std::move(*record));
    else
      malformed_.add(1);
  }
  return out;
}

void cluster_registry::withdraw(const cluster::member_record& self) noexcept {
  try {
    auto c = redis_connect(address_);
    redis_command(c.get(), {"EVAL", withdraw_script, "1", member_key(self.node_name),
                            "\"incarnation\":\"" + self.incarnation + "\""});
    redis_command(c.get(), {"EVAL", resign_script, "1", coordinator_key_, lease_value(self)});
  } catch (const std::exception&) {
    // The TTL removes it soon enough.
  }
}

} // namespace vigil::connectors

namespace vigil::connectors {

std::string cluster_registry::hold_coordinator(const cluster::member_record& self) {
  auto c = redis_connect(address_);
  auto r = redis_command(c.get(), {"EVAL", coordinator_script, "1", coordinator_key_, lease_value(self),
                                   std::to_string(ttl_.count())});
  if (r->type != REDIS_REPLY_STRING)
    throw std::runtime_error("unexpected reply taking the coordinator's lease");
  std::string holder(r->str, r->len);
  return holder.substr(0, holder.rfind('/'));
}

} // namespace vigil::connectors
