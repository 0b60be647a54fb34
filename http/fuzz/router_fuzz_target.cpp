#include "http/fuzz/router_fuzz_target.h"

#include "http/api_router.h"

#include <string>

namespace vigil::http {
namespace {

// Accepts everything the router passes on, so the fuzzer reaches the parsers.
class permissive_node final : public node_api {
 public:
  std::vector<nlohmann::json> predict(const std::vector<pipeline::transaction>& txs, bool, bool) override {
    return std::vector<nlohmann::json>(txs.size(), nlohmann::json::object());
  }
  nlohmann::json feedback(const std::vector<pipeline::label_event>& l) override { return {{"accepted", l.size()}}; }
  nlohmann::json config() override { return nlohmann::json::object(); }
  std::vector<config::config_error> update_config(const nlohmann::json& patch) override {
    config::runtime_config out;
    return config::apply_patch(config::runtime_config{}, patch, true, out);
  }
  std::vector<config::config_error> rollback_config(int) override { return {}; }
  nlohmann::json models() override { return nlohmann::json::object(); }
  nlohmann::json promote(int v) override { return {{"promoted", v}}; }
  nlohmann::json retrain() override { return nlohmann::json::object(); }
  nlohmann::json readiness() override { return {{"ready", true}}; }
  std::string metrics_text() override { return ""; }
  std::string auth_token() override { return "fuzz-token"; }
};

} // namespace

int fuzz_route_once(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  std::string head = input.substr(0, newline);
  http_request r;
  auto space = head.find(' ');
  r.method = head.substr(0, space);
  split_target(space == std::string::npos ? "/" : head.substr(space + 1), r.path, r.query);
  r.body = newline == std::string::npos ? "" : input.substr(newline + 1);
  r.authorization = "Bearer fuzz-token";
  static permissive_node node;
  return route(r, node).status;
}

} // namespace vigil::http

#ifdef VIGIL_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vigil::http::fuzz_route_once(data, size);
  return 0;
}
#endif
