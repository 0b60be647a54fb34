#include "http/fuzz/router_fuzz_target.h"

#include "http/api_router.h"

#include <string>

namespace vigil::http {
namespace {

// Accepts everything the router passes on, so the fuzzer reaches the parsers.
class permissive_node final : public node_api {
 public:
  void predict(predict_call call, decisions_continuation done) override {
    done(std::vector<std::string>(call.transactions.size(), "{}"));
  }
  void feedback(std::vector<pipeline::label_event> l, json_continuation done) override {
    done(nlohmann::json{{"accepted", l.size()}});
  }
  void models(json_continuation done) override { done(nlohmann::json::object()); }
  void promote(int v, json_continuation done) override { done(nlohmann::json{{"promoted", v}}); }
  void retrain(json_continuation done) override { done(nlohmann::json::object()); }
  nlohmann::json config() override { return nlohmann::json::object(); }
  std::vector<config::config_error> update_config(const nlohmann::json& patch) override {
    config::runtime_config out;
    return config::apply_patch(config::runtime_config{}, patch, true, out);
  }
  std::vector<config::config_error> rollback_config(int) override { return {}; }
  void readiness(json_continuation done) override { done(nlohmann::json{{"ready", true}}); }
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
  r.content_type = "application/json";
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
