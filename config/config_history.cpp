#include "config/config_history.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace vigil::config {

config_history::config_history(runtime_config initial) {
  versions_.push_back({1, std::move(initial), "startup"});
}

std::vector<config_error> config_history::update(const nlohmann::json& patch,
                                                 const std::string& source) {
  runtime_config next;
  auto errors = apply_patch(current().config, patch, true, next);
  // A change that changes nothing is accepted but is not a new version, so
  // repeated PATCHes cannot grow the history without bound.
  if (errors.empty() && to_json(next) != to_json(current().config))
    versions_.push_back({current().version + 1, std::move(next), source});
  return errors;
}

std::vector<config_error> config_history::replace(const runtime_config& next,
                                                  const std::string& source) {
  // A full replacement is the patch of every field but the token: tokens
  // are rotated only on purpose (PATCH), never brought back by a reload or
  // a rollback, which would lock out whoever holds the rotated one.
  auto patch = to_json(next);
  patch.erase("auth_token");
  return update(patch, source);
}

std::vector<config_error> config_history::rollback(int version) {
  for (const auto& v : versions_)
    if (v.version == version)
      return replace(v.config, "rollback to " + std::to_string(version));
  return {{"version", "no config version " + std::to_string(version)}};
}

runtime_config load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read config file " + path);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded())
    throw std::runtime_error("config file " + path + " is not valid JSON");
  runtime_config out;
  auto errors = apply_patch(runtime_config{}, j, false, out);
  if (!errors.empty()) {
    std::string message = "config file " + path + " refused:";
    for (const auto& e : errors)
      message += " " + e.field + ": " + e.reason + ";";
    throw std::runtime_error(message);
  }
  return out;
}

} // namespace vigil::config
