#include "http/console_routes.h"

#include "http/http_errors.h"
#include "http/request_parsing.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace vigil::http {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_text_parameter = 256;

[[noreturn]] void bad_parameter(const std::string& name, const std::string& reason) {
  throw vigil_error(vigil_errc::malformed_request, "query parameter " + name + ": " + reason,
                    json::array({{{"field", name}, {"reason", reason}}}));
}

const std::string* parameter(const http_request& r, const std::string& name) {
  auto it = r.query.find(name);
  return it == r.query.end() ? nullptr : &it->second;
}

double number_parameter(const http_request& r, const std::string& name, double fallback, double low, double high) {
  const auto* text = parameter(r, name);
  if (!text)
    return fallback;
  char* end = nullptr;
  double v = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0' || !std::isfinite(v) || v < low || v > high) {
    char range[64];
    std::snprintf(range, sizeof range, "must be a number in [%g, %g]", low, high);
    bad_parameter(name, range);
  }
  return v;
}

std::string text_parameter(const http_request& r, const std::string& name,
                           std::initializer_list<const char*> allowed = {}) {
  const auto* text = parameter(r, name);
  if (!text)
    return "";
  if (text->size() > max_text_parameter)
    bad_parameter(name, "longer than " + std::to_string(max_text_parameter) + " bytes");
  if (allowed.size() == 0 || text->empty())
    return *text;
  std::string options;
  for (const char* a : allowed) {
    if (*text == a)
      return *text;
    options += options.empty() ? a : std::string(", ") + a;
  }
  bad_parameter(name, "must be one of " + options);
}

review_query read_review_query(const http_request& r) {
  static const std::set<std::string> known = {"decision", "min_score", "max_score", "user_id", "merchant_id",
                                              "rule",     "status",    "before",    "limit"};
  for (const auto& [name, value] : r.query)
    if (!known.count(name))
      bad_parameter(name, "unknown parameter");
  review_query q;
  q.decision = text_parameter(r, "decision", {"review", "decline"});
  q.min_score = number_parameter(r, "min_score", 0, 0, 1);
  q.max_score = number_parameter(r, "max_score", 1, 0, 1);
  q.user_id = text_parameter(r, "user_id");
  q.merchant_id = text_parameter(r, "merchant_id");
  q.rule = text_parameter(r, "rule");
  q.status = text_parameter(r, "status", {"open", "fraud", "legitimate"});
  q.before = static_cast<std::uint64_t>(number_parameter(r, "before", 0, 0, 9e15));
  q.limit = static_cast<std::size_t>(number_parameter(r, "limit", 50, 1, 500));
  return q;
}

[[noreturn]] void bad_field(const std::string& name, const std::string& reason) {
  throw vigil_error(vigil_errc::invalid_field, "validation failed",
                    json::array({{{"field", name}, {"reason", reason}}}));
}

int version_field(const json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() && !required)
    return 0;
  if (it == body.end() || !it->is_number_integer() || *it < 1 || *it > 1'000'000'000)
    bad_field(name, "a model version (a positive integer) is required");
  return it->get<int>();
}

backtest_call read_backtest_call(const json& body) {
  if (!body.is_object())
    bad_field("$", "must be an object");
  for (const auto& [name, value] : body.items())
    if (name != "model" && name != "rules" && name != "production_model" && name != "rows")
      bad_field(name, "unknown field");
  backtest_call call;
  call.model = version_field(body, "model", true);
  call.production_model = version_field(body, "production_model", false);
  if (auto rules = body.find("rules"); rules != body.end())
    call.rules = *rules;
  if (auto rows = body.find("rows"); rows != body.end()) {
    if (!rows->is_number_integer() || *rows < 1 || *rows > 1'000'000)
      bad_field("rows", "an integer in [1, 1000000]");
    call.rows = rows->get<std::size_t>();
  }
  return call;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

} // namespace

bool is_console_path(const std::string& p) {
  return p == "/review" || p.rfind("/review/", 0) == 0 || p == "/metrics/history" || p == "/backtest";
}

bool dispatch_console(http_request& r, node_api& node, responder& respond) {
  const auto& p = r.path;
  if (p == "/review" && r.method == "GET") {
    require_token(r, node);  // other people's transactions
    respond(json_response(200, node.review_list(read_review_query(r))));
    return true;
  }
  if (p.rfind("/review/", 0) == 0 && r.method == "GET") {
    require_token(r, node);
    auto id = p.substr(8);
    if (id.empty() || id.size() > max_text_parameter)
      throw vigil_error(vigil_errc::malformed_request, "a transaction id of 1 to 256 bytes is expected");
    auto item = node.review_item(id);
    if (!item)
      throw vigil_error(vigil_errc::not_found, "transaction " + id + " is not in the review queue");
    respond(json_response(200, *item));
    return true;
  }
  if (p == "/metrics/history" && r.method == "GET") {
    respond(json_response(200, node.metrics_history()));
    return true;
  }
  if (p.rfind("/models/", 0) == 0 && r.method == "GET" && (ends_with(p, "/pr_curve.svg") || ends_with(p, "/confusion.svg"))) {
    auto slash = p.find('/', 8);
    int version = parse_version(p.substr(8, slash - 8), "model version");
    node.model_artifact(version, p.substr(slash + 1), [respond = std::move(respond)](outcome<std::string> result) {
      if (auto* e = std::get_if<vigil_error>(&result))
        return respond(error_response(*e));
      respond({200, "image/svg+xml", std::move(std::get<std::string>(result))});
    });
    return true;
  }
  if (p == "/backtest" && r.method == "POST") {
    require_token(r, node);  // replays the whole log: seconds of CPU
    auto call = read_backtest_call(parse_body(r));  // may throw: `respond` is still ours
    node.backtest(std::move(call), answer_json(std::move(respond), 200));
    return true;
  }
  return false;
}

} // namespace vigil::http
