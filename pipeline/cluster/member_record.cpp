#include "pipeline/cluster/member_record.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>

namespace vigil::cluster {

nlohmann::json to_json(const member_record& r) {
  return {{"node_name", r.node_name},       {"host", r.host},
          {"cluster_port", r.cluster_port}, {"http_address", r.http_address},
          {"started_at_ms", r.started_at_ms}, {"incarnation", r.incarnation}};
}

std::string new_incarnation() {
  std::random_device device;
  std::uniform_int_distribution<unsigned long long> digits;
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", digits(device), digits(device));
  return buf;
}

std::optional<member_record> member_record_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  auto string_field = [&](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto name = string_field("node_name"), host = string_field("host"), http = string_field("http_address"),
       incarnation = string_field("incarnation");
  auto port = j.find("cluster_port"), started = j.find("started_at_ms");
  if (!name || !host || !http || !incarnation || name->empty() || host->empty() || incarnation->empty() ||
      port == j.end() || !port->is_number_unsigned() || port->get<std::uint64_t>() == 0 ||
      port->get<std::uint64_t>() > 65535 || started == j.end() || !started->is_number_integer())
    return std::nullopt;
  return member_record{*name, *host, static_cast<std::uint16_t>(port->get<std::uint64_t>()), *http,
                       started->get<std::int64_t>(), *incarnation};
}

nlohmann::json to_json(const node_status& s) {
  return {{"partitions", s.partitions},
          {"topic_partitions", s.topic_partitions},
          {"config_version", s.config_version},
          {"settings_version", s.settings_version},
          {"model_version", s.model_version},
          {"merchant_shards", s.merchant_shards}};
}

} // namespace vigil::cluster
