#pragma once
// What every node of a cluster runs alike, in Redis next to the member list:
//   <prefix>:settings  version     raised by every change (the cluster's
//                                  settings version each node reports)
//                      live        the live config fields, as JSON
//                      model       the model version promoted cluster-wide
//                      origin      which node made the change, and how
// A PATCH, rollback or reload of the config on any node publishes its live
// fields; a promotion publishes the model. Every node adopts a newer
// version within its next membership round. Plain C++: no CAF.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::connectors {

struct shared_settings {
  std::int64_t version = 0;
  nlohmann::json live;   ///< null until a config change was published
  std::int32_t model = 0;  ///< 0 until a promotion was published
  std::string origin;
};

class cluster_settings_store {
 public:
  cluster_settings_store(std::string address, std::string prefix);
  /// Each publishes one change atomically (the rest stays) and returns the
  /// new version. Throw std::runtime_error when Redis fails.
  std::int64_t publish_config(const nlohmann::json& live, const std::string& origin);
  std::int64_t publish_model(std::int32_t version, const std::string& origin);
  /// nullopt when nothing was ever published. Throws std::runtime_error
  /// when Redis fails or the entry is corrupt.
  std::optional<shared_settings> read();

 private:
  std::int64_t publish(const std::string& field, const std::string& value, const std::string& origin);
  std::string address_, key_;
};

} // namespace vigil::connectors
