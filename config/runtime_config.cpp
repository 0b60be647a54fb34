#include "config/runtime_config.h"

#include "pipeline/features/feature_schema.h"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <limits>

namespace vigil::rules {

void to_json(nlohmann::json& j, const rule_definition& r) {
  j = nlohmann::json{{"id", r.id}, {"when", r.when}, {"action", r.action}, {"description", r.description}};
  if (r.score_delta != 0)
    j["score_delta"] = r.score_delta;
}

} // namespace vigil::rules

namespace vigil::config {
using json = nlohmann::json;

namespace {

using rule_list = std::vector<rules::rule_definition>;

// A rule list from JSON (field `field`), every problem named by its place
// ("rules[2].when"); `out` is set only when there is none.
void read_rules(const json& j, const std::string& field, rule_list& out, std::vector<config_error>& errors) {
  if (!j.is_array()) {
    errors.push_back({field, "must be an array of rule objects"});
    return;
  }
  if (j.size() > rules::max_rules) {
    errors.push_back({field, "at most " + std::to_string(rules::max_rules) + " rules"});
    return;
  }
  rule_list read;
  const auto before = errors.size();
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& item = j[i];
    auto place = field + "[" + std::to_string(i) + "]";
    if (!item.is_object()) {
      errors.push_back({place, "must be an object with id, when, action (and score_delta, description)"});
      continue;
    }
    rules::rule_definition r;
    for (const auto& member : item.items()) {
      const auto& key = member.key();
      const auto& value = member.value();
      std::string* text = key == "id" ? &r.id : key == "when" ? &r.when : key == "action" ? &r.action
                          : key == "description" ? &r.description : nullptr;
      if (text) {
        if (value.is_string())
          *text = value.get<std::string>();
        else
          errors.push_back({place + "." + key, "must be a string"});
      } else if (key == "score_delta") {
        if (value.is_number())
          r.score_delta = value.get<double>();
        else
          errors.push_back({place + ".score_delta", "must be a number"});
      } else {
        errors.push_back({place + "." + key, "unknown field (id, when, action, score_delta, description)"});
      }
    }
    for (const char* required : {"id", "when", "action"})
      if (!item.contains(required))
        errors.push_back({place + "." + required, "is required"});
    read.push_back(std::move(r));
  }
  if (errors.size() == before)
    out = std::move(read);
}

// Visits every field with its name, so JSON in/out and patches share one list.
template <class Config, class F>
void for_each_field(Config& c, F&& f) {
  f("review_threshold", c.review_threshold);
  f("decline_threshold", c.decline_threshold);
  f("batch_size", c.batch_size);
  f("batch_deadline_ms", c.batch_deadline_ms);
  f("max_in_flight_batches", c.max_in_flight_batches);
  f("pause_input_after_ms", c.pause_input_after_ms);
  f("allowed_lateness_ms", c.allowed_lateness_ms);
  f("max_event_time_skew_ms", c.max_event_time_skew_ms);
  f("user_shards", c.user_shards);
  f("max_http_keys", c.max_http_keys);
  f("merchant_shards", c.merchant_shards);
  f("scorers", c.scorers);
  f("registry_dir", c.registry_dir);
  f("model_stage", c.model_stage);
  f("reasons_for_approved", c.reasons_for_approved);
  f("disabled_features", c.disabled_features);
  f("rules", c.rules);
  f("shadow_enabled", c.shadow_enabled);
  f("shadow_model_version", c.shadow_model_version);
  f("shadow_rules", c.shadow_rules);
  f("retrain_daily_at", c.retrain_daily_at);
  f("retrain_min_new_labels", c.retrain_min_new_labels);
  f("promote_margin", c.promote_margin);
  f("drift_retrain_psi", c.drift_retrain_psi);
  f("drift_window", c.drift_window);
  f("drift_min_rows", c.drift_min_rows);
  f("readback_decisions", c.readback_decisions);
  f("brokers", c.brokers);
  f("input_topic", c.input_topic);
  f("consumer_group", c.consumer_group);
  f("node_name", c.node_name);
  f("redis", c.redis);
  f("snapshot_path", c.snapshot_path);
  f("snapshot_interval_ms", c.snapshot_interval_ms);
  f("decisions_path", c.decisions_path);
  f("labels_path", c.labels_path);
  f("http_address", c.http_address);
  f("http_port", c.http_port);
  f("cluster_port", c.cluster_port);
  f("cluster_address", c.cluster_address);
  f("cluster_advertise", c.cluster_advertise);
  f("cluster_advertise_port", c.cluster_advertise_port);
  f("input_partitioner", c.input_partitioner);
  f("auth_token", c.auth_token);
  f("auth_token_path", c.auth_token_path);
  f("max_connections_per_client", c.max_connections_per_client);
  f("body_limit_bytes", c.body_limit_bytes);
  f("read_timeout_ms", c.read_timeout_ms);
  f("max_connections", c.max_connections);
  f("simulator_rate", c.simulator_rate);
  f("simulator_seed", c.simulator_seed);
  f("simulator_count", c.simulator_count);
  f("simulator_users", c.simulator_users);
  f("simulator_labels", c.simulator_labels);
  f("replay_path", c.replay_path);
  f("replay_speedup", c.replay_speedup);
}

template <class T>
bool read_value(const json& j, T& out) {
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (!j.is_array())
      return false;
    for (const auto& item : j)
      if (!item.is_string())
        return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return false;
  } else if constexpr (std::is_integral_v<T>) {
    // The JSON number as it is: a value the field cannot hold is refused,
    // never truncated (4294967297 must not become 1).
    if (!j.is_number_integer()) return false;
    if (j.is_number_unsigned()) {
      if (j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
    } else {
      auto v = j.get<std::int64_t>();
      if (std::is_unsigned_v<T> ? v < 0 : v < static_cast<std::int64_t>(std::numeric_limits<T>::min()))
        return false;
      if (v > 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        return false;
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) return false;
  } else {
    if (!j.is_string()) return false;
  }
  out = j.get<T>();
  return true;
}

template <class T>
std::string type_name() {
  if constexpr (std::is_same_v<T, std::vector<std::string>>) return "an array of strings";
  else if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>)
    return "an integer in [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
           std::to_string(std::numeric_limits<T>::max()) + "]";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else return "a string";
}

bool valid_hh_mm(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() != 5 || s[2] != ':' || !isdigit(s[0]) || !isdigit(s[1]) || !isdigit(s[3]) || !isdigit(s[4]))
    return false;
  return std::stoi(s.substr(0, 2)) < 24 && std::stoi(s.substr(3, 2)) < 60;
}

} // namespace

bool is_loopback_address(const std::string& address) {
  if (address == "localhost" || address == "::1")
    return true;
  in_addr v4{};
  return inet_pton(AF_INET, address.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool clustered(const runtime_config& c) {
  return !c.brokers.empty() && !c.redis.empty() && c.cluster_port >= 0;
}

const std::vector<std::string>& restart_only_fields() {
  static const std::vector<std::string> fields = {
    "user_shards", "merchant_shards", "scorers", "brokers", "input_topic", "consumer_group", "node_name", "redis",
    "snapshot_path", "decisions_path", "labels_path", "http_address", "http_port",
    "cluster_port", "cluster_address", "cluster_advertise", "cluster_advertise_port", "input_partitioner", "registry_dir", "simulator_seed",
    "simulator_rate", "simulator_count", "simulator_users", "simulator_labels",
    "replay_path", "replay_speedup", "body_limit_bytes",
    "read_timeout_ms", "max_connections", "max_connections_per_client", "readback_decisions", "auth_token_path",
    "max_event_time_skew_ms", "max_http_keys"};
  return fields;
}

std::vector<config_error> validate(const runtime_config& c) {
  std::vector<config_error> e;
  auto need = [&](bool ok, const char* field, const char* reason) {
    if (!ok) e.push_back({field, reason});
  };
  need(c.review_threshold < 0 || c.review_threshold <= 1, "review_threshold", "must be in [0, 1], or negative for the model's threshold");
  need(c.decline_threshold >= 0 && c.decline_threshold <= 1, "decline_threshold", "must be in [0, 1]");
  need(c.review_threshold < 0 || c.review_threshold <= c.decline_threshold, "review_threshold", "must not exceed decline_threshold");
  need(c.batch_size >= 1 && c.batch_size <= 65'536, "batch_size", "must be in [1, 65536]");
  need(c.batch_deadline_ms >= 1 && c.batch_deadline_ms <= 60'000, "batch_deadline_ms", "must be in [1, 60000]");
  need(c.max_in_flight_batches >= 1 && c.max_in_flight_batches <= 1024, "max_in_flight_batches", "must be in [1, 1024]");
  need(c.pause_input_after_ms >= 1 && c.pause_input_after_ms <= 60'000, "pause_input_after_ms", "must be in [1, 60000]");
  need(c.allowed_lateness_ms >= 0, "allowed_lateness_ms", "must not be negative");
  need(c.max_event_time_skew_ms >= 0 && c.max_event_time_skew_ms <= 7 * 86'400'000LL, "max_event_time_skew_ms",
       "must be in [0, 604800000] (a week)");
  need(c.user_shards >= 1 && c.user_shards <= 256, "user_shards", "must be in [1, 256]");
  need(c.max_http_keys >= 1 && c.max_http_keys <= 10'000'000, "max_http_keys", "must be in [1, 10000000]");
  need(c.merchant_shards >= 1 && c.merchant_shards <= 256, "merchant_shards", "must be in [1, 256]");
  need(c.scorers >= 1 && c.scorers <= 256, "scorers", "must be in [1, 256]");
  need(c.model_stage == "production" || c.model_stage == "shadow" || c.model_stage == "candidate",
       "model_stage", "must be production, shadow or candidate");
  need(valid_hh_mm(c.retrain_daily_at), "retrain_daily_at", "must be HH:MM (UTC) or empty");
  need(c.retrain_min_new_labels >= 0, "retrain_min_new_labels", "must not be negative");
  need(c.promote_margin >= 0 && c.promote_margin < 1, "promote_margin", "must be in [0, 1)");
  need(c.drift_retrain_psi == 0 || (c.drift_retrain_psi >= 0.01 && c.drift_retrain_psi <= 10), "drift_retrain_psi",
       "must be 0 (off) or in [0.01, 10]");
  need(c.drift_window == "24h" || c.drift_window == "7d" || c.drift_window == "30d", "drift_window",
       "must be \"24h\", \"7d\" or \"30d\"");
  need(c.drift_min_rows >= 1 && c.drift_min_rows <= 100'000'000, "drift_min_rows", "must be in [1, 100000000]");
  need(c.readback_decisions >= 0 && c.readback_decisions <= 500'000, "readback_decisions",
       "must be in [0, 500000] (the scored log keeps 500,000)");
  need(!c.input_topic.empty(), "input_topic", "must not be empty");
  need(!c.consumer_group.empty(), "consumer_group", "must not be empty");
  need(c.snapshot_interval_ms >= 100, "snapshot_interval_ms", "must be at least 100");
  need(c.http_port >= 0 && c.http_port <= 65'535, "http_port", "must be in [0, 65535]");
  need(c.auth_token.size() >= 8 && c.auth_token.size() <= 256 &&
         std::all_of(c.auth_token.begin(), c.auth_token.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; }),
       "auth_token", "must be 8 to 256 visible ASCII characters (no spaces)");
  need(c.auth_token != default_auth_token || is_loopback_address(c.http_address), "auth_token",
       "the default token is refused when http_address is not loopback: set a secret of your own");
  need(c.cluster_port >= -1 && c.cluster_port <= 65'535, "cluster_port",
       "must be in [0, 65535], or -1 for a node outside any cluster");
  need(c.cluster_advertise_port >= 0 && c.cluster_advertise_port <= 65'535, "cluster_advertise_port",
       "must be in [0, 65535] (0: the cluster port bound)");
  need(!c.cluster_address.empty(), "cluster_address", "must name an interface (0.0.0.0 for all)");
  need(c.input_partitioner == "consistent_random" || c.input_partitioner == "murmur2_random", "input_partitioner",
       "must be \"consistent_random\" (librdkafka's default) or \"murmur2_random\" (the Java client's)");
  // 64: cluster::merchant_shard_count (merchant_client.cpp checks they agree).
  need(!clustered(c) || 64 % c.merchant_shards == 0, "merchant_shards",
       "must divide 64 (1, 2, 4, 8, 16, 32 or 64) on a clustered node: the cluster's 64 merchant shards are "
       "spread over a node's local ones");
  need(!clustered(c) || c.auth_token != default_auth_token || is_loopback_address(c.cluster_address),
       "auth_token", "the default token is refused when cluster_address is not loopback: set a secret of your own");
  need(c.max_connections_per_client >= 1 && c.max_connections_per_client <= c.max_connections,
       "max_connections_per_client", "must be in [1, max_connections]");
  need(c.body_limit_bytes >= 1024, "body_limit_bytes", "must be at least 1024");
  need(c.read_timeout_ms >= 100, "read_timeout_ms", "must be at least 100");
  need(c.max_connections >= 1, "max_connections", "must be at least 1");
  need(c.simulator_rate >= 0, "simulator_rate", "must not be negative");
  need(c.simulator_count >= 0, "simulator_count", "must not be negative");
  need(c.simulator_users >= 0 && c.simulator_users <= 200'000, "simulator_users", "must be in [0, 200000]");
  need(c.replay_speedup >= 0, "replay_speedup", "must not be negative");
  need(c.replay_path.empty() || c.brokers.empty(), "replay_path",
       "a file is replayed by the embedded pipeline: leave brokers empty");
  for (const auto* list : {&c.rules, &c.shadow_rules})
    for (const auto& p : rules::check_rules(*list))
      e.push_back({std::string(list == &c.rules ? "rules" : "shadow_rules") + "[" + std::to_string(p.rule) + "]" +
                     (p.field.empty() ? "" : "." + p.field),
                   p.reason});
  need(c.shadow_model_version >= 0, "shadow_model_version", "must be a registry version, or 0 for the served model");
  for (const auto& name : c.disabled_features) {
    const auto& names = pipeline::feature_names();
    need(std::find(names.begin(), names.end(), name) != names.end(), "disabled_features",
         "unknown feature name");
  }
  return e;
}

json live_fields(const runtime_config& c) {
  auto j = to_json(c);
  for (const auto& field : restart_only_fields())
    j.erase(field);
  return j;
}

json to_json(const runtime_config& c) {
  json j = json::object();
  for_each_field(c, [&](const char* name, const auto& value) { j[name] = value; });
  return j;
}

std::vector<config_error> apply_patch(const runtime_config& base, const json& patch,
                                      bool live_only, runtime_config& out) {
  std::vector<config_error> errors;
  if (!patch.is_object())
    return {{"$", "must be a JSON object"}};
  runtime_config next = base;
  for (const auto& item : patch.items()) {
    // Named copies, not structured bindings: C++17 lambdas cannot capture those (clang refuses).
    const std::string key = item.key();
    const json& value = item.value();
    bool known = false;
    for_each_field(next, [&](const char* name, auto& field) {
      if (key != name)
        return;
      known = true;
      using T = std::decay_t<decltype(field)>;
      T before = field;
      if constexpr (std::is_same_v<T, rule_list>) {
        const auto count = errors.size();
        read_rules(value, key, field, errors);
        if (errors.size() != count)
          return;
      } else if (!read_value(value, field)) {
        errors.push_back({key, "must be " + type_name<T>()});
        return;
      }
      const auto& restart = restart_only_fields();
      if (live_only && !(field == before) &&
          std::find(restart.begin(), restart.end(), key) != restart.end())
        errors.push_back({key, "can only change with a restart"});
    });
    if (!known)
      errors.push_back({key, "unknown field"});
  }
  // Whole-object rules run even after field errors, so one refusal lists
  // every problem.
  auto rule_errors = validate(next);
  errors.insert(errors.end(), rule_errors.begin(), rule_errors.end());
  if (errors.empty())
    out = next;
  return errors;
}

nlohmann::json errors_json(const std::vector<config_error>& errors) {
  auto out = nlohmann::json::array();
  for (const auto& e : errors)
    out.push_back({{"field", e.field}, {"reason", e.reason}});
  return out;
}

std::vector<config_error> rules_from_json(const nlohmann::json& list, std::vector<rules::rule_definition>& out) {
  runtime_config parsed;
  auto errors = apply_patch(runtime_config{}, {{"rules", list}}, false, parsed);
  if (errors.empty())
    out = std::move(parsed.rules);
  return errors;
}

} // namespace vigil::config
