#include "http/api_router.h"

#include "http/http_errors.h"
#include "pipeline/schema/transaction_json.h"

#include <chrono>
#include <functional>

namespace vigil::http {
namespace {

using json = nlohmann::json;

json parse_body(const http_request& r) {
  if (r.body.empty())
    throw http_error(400, "request body is empty; expected JSON");
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded())
    throw http_error(400, "request body is not valid JSON");
  return j;
}

// Accepts one object or an array of them; field errors carry the index.
template <class Parse>
auto parse_items(const json& body, Parse parse) {
  std::vector<typename decltype(parse(body).value)::value_type> out;
  json errors = json::array();
  auto add = [&](const json& item, const std::string& prefix) {
    auto r = parse(item);
    for (const auto& e : r.errors)
      errors.push_back({{"field", prefix + e.field}, {"reason", e.reason}});
    if (r.value)
      out.push_back(std::move(*r.value));
  };
  if (body.is_array()) {
    if (body.empty() || body.size() > max_batch_items)
      throw http_error(400, "array must hold 1 to " + std::to_string(max_batch_items) + " items");
    for (std::size_t i = 0; i < body.size(); ++i)
      add(body[i], "[" + std::to_string(i) + "].");
  } else {
    add(body, "");
  }
  if (!errors.empty())
    throw http_error(422, "validation failed", errors);
  return out;
}

json config_errors_json(const std::vector<config::config_error>& errors) {
  json out = json::array();
  for (const auto& e : errors)
    out.push_back({{"field", e.field}, {"reason", e.reason}});
  return out;
}

void require_token(const http_request& r, node_api& node) {
  const std::string prefix = "Bearer ";
  if (r.authorization.empty())
    throw http_error(401, "missing bearer token");
  if (r.authorization.compare(0, prefix.size(), prefix) != 0 ||
      r.authorization.substr(prefix.size()) != node.auth_token())
    throw http_error(403, "invalid bearer token");
}

int parse_version(const std::string& text) {
  try {
    std::size_t used = 0;
    int v = std::stoi(text, &used);
    if (used == text.size() && v > 0)
      return v;
  } catch (const std::exception&) {
  }
  throw http_error(400, "model version must be a positive integer, got '" + text + "'");
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

http_response handle_predict(const http_request& r, node_api& node) {
  auto body = parse_body(r);
  auto items = parse_items(body, [](const json& j) {
    auto p = pipeline::transaction_from_json(j);
    struct { std::optional<pipeline::transaction> value; std::vector<pipeline::field_error> errors; } out;
    if (p.value)
      out.value = std::move(p.value->tx);
    out.errors = std::move(p.errors);
    return out;
  });
  auto flag = [&](const char* name) {
    auto value = r.query.count(name) ? r.query.at(name) : "false";
    if (value != "true" && value != "false")
      throw http_error(400, std::string("query parameter ") + name + " must be true or false");
    return value == "true";
  };
  bool update = flag("update"), explain = flag("explain");
  auto results = node.predict(items, update, explain);
  if (!body.is_array())
    return json_response(200, results.front());
  return json_response(200, {{"results", results}});
}

http_response handle_feedback(const http_request& r, node_api& node) {
  require_token(r, node);
  auto body = parse_body(r);
  auto now = now_ms();
  auto labels = parse_items(body, [now](const json& j) { return pipeline::label_from_json(j, now); });
  return json_response(200, node.feedback(labels));
}

http_response handle_config_change(const http_request& r, node_api& node) {
  require_token(r, node);
  auto errors = node.update_config(parse_body(r));
  if (!errors.empty())
    return error_response(422, "config change refused; nothing was changed", config_errors_json(errors));
  return json_response(200, node.config());
}

} // namespace

http_response route(const http_request& r, node_api& node) {
  try {
    const auto& p = r.path;
    if (p == "/predict" && r.method == "POST")
      return handle_predict(r, node);
    if (p == "/feedback" && r.method == "POST")
      return handle_feedback(r, node);
    if (p == "/config" && r.method == "GET")
      return json_response(200, node.config());
    if (p == "/config" && (r.method == "PUT" || r.method == "PATCH"))
      return handle_config_change(r, node);
    if (p.rfind("/config/rollback/", 0) == 0 && r.method == "POST") {
      require_token(r, node);
      auto errors = node.rollback_config(parse_version(p.substr(17)));
      if (!errors.empty())
        return error_response(422, "rollback refused", config_errors_json(errors));
      return json_response(200, node.config());
    }
    if (p == "/health" && r.method == "GET")
      return json_response(200, {{"status", "ok"}});
    if (p == "/ready" && r.method == "GET") {
      auto status = node.readiness();
      return json_response(status.value("ready", false) ? 200 : 503, status);
    }
    if (p == "/metrics" && r.method == "GET")
      return {200, "text/plain; version=0.0.4", node.metrics_text()};
    if (p == "/models" && r.method == "GET")
      return json_response(200, node.models());
    if (p.rfind("/models/", 0) == 0 && r.method == "POST" && p.size() > 16 &&
        p.compare(p.size() - 8, 8, "/promote") == 0) {
      require_token(r, node);
      return json_response(200, node.promote(parse_version(p.substr(8, p.size() - 16))));
    }
    if (p == "/retrain" && r.method == "POST") {
      require_token(r, node);
      return json_response(202, node.retrain());
    }
    if (p == "/openapi.json" && r.method == "GET")
      return {200, "application/json", openapi_document()};
    if (p == "/" && r.method == "GET")
      return {200, "text/html; charset=utf-8", dashboard_page()};
    static const std::vector<std::string> known = {"/predict", "/feedback", "/config", "/health",
                                                   "/ready", "/metrics", "/models", "/retrain",
                                                   "/openapi.json", "/"};
    for (const auto& k : known)
      if (p == k)
        return error_response(405, "method " + r.method + " not allowed on " + p);
    return error_response(404, "no route for " + r.method + " " + p);
  } catch (const http_error& e) {
    return error_response(e.status, e.what(), e.details);
  } catch (const std::exception& e) {
    // A handler failure is our fault: report it, keep serving.
    return error_response(500, std::string("internal error: ") + e.what());
  }
}

} // namespace vigil::http
