#include "http/api_router.h"

#include "http/expensive_lane.h"
#include "http/console_routes.h"
#include "http/http_errors.h"
#include "http/request_parsing.h"
#include "pipeline/schema/transaction_direct_reader.h"
#include "pipeline/schema/transaction_json.h"

#include <algorithm>
#include <chrono>
#include <future>

namespace vigil::http {
namespace {

using json = nlohmann::json;

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
      throw vigil_error(vigil_errc::malformed_request,
                        "array must hold 1 to " + std::to_string(max_batch_items) + " items");
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); ++i)
      add(body[i], "[" + std::to_string(i) + "].");
  } else {
    add(body, "");
  }
  if (!errors.empty())
    throw vigil_error(vigil_errc::invalid_field, "validation failed", errors);
  return out;
}

bool query_flag(const http_request& r, const char* name) {
  auto it = r.query.find(name);
  auto value = it == r.query.end() ? "false" : it->second;
  if (value != "true" && value != "false")
    throw vigil_error(vigil_errc::malformed_request,
                      std::string("query parameter ") + name + " must be true or false");
  return value == "true";
}

// The transactions of a /predict body: read directly when it is the common
// case, else through the strict tree reader, which names every error.
struct predict_items {
  std::vector<pipeline::transaction> transactions;
  bool array = false;
};

predict_items read_predict_items(const http_request& r, std::int64_t now, std::int64_t skew) {
  predict_items out;
  if (declares_json(r.content_type)) {
    if (auto direct = pipeline::read_transactions_directly(r.body, pipeline::unknown_fields::refuse, max_batch_items)) {
      bool in_time = std::none_of(direct->items.begin(), direct->items.end(), [&](const auto& item) {
        return pipeline::future_time_error(item.tx.event_time_ms, now, skew).has_value();
      });
      if (in_time) {
        out.array = direct->array;
        out.transactions.reserve(direct->items.size());
        for (auto& item : direct->items)
          out.transactions.push_back(std::move(item.tx));
        return out;
      }
    }
  }
  auto body = parse_body(r);
  out.transactions = parse_items(body, [now, skew](const json& j) {
    auto p = pipeline::transaction_from_json(j, pipeline::unknown_fields::refuse);
    struct { std::optional<pipeline::transaction> value; std::vector<pipeline::field_error> errors; } item;
    if (p.value) {
      if (auto late = pipeline::future_time_error(p.value->tx.event_time_ms, now, skew))
        p.errors.push_back({"timestamp", *late});
      else
        item.value = std::move(p.value->tx);
    }
    item.errors = std::move(p.errors);
    return item;
  });
  out.array = body.is_array();
  return out;
}

// Parses and validates a /predict body, hands it to the node, and answers
// from its continuation: one object, or {"results": [...]} for an array.
// `respond` is taken only once nothing can throw any more.
void submit_predict(const http_request& r, predict_call call, node_api& node, responder& respond) {
  auto items = read_predict_items(r, now_ms(), node.max_event_time_skew_ms());
  call.transactions = std::move(items.transactions);
  bool array = items.array;
  node.predict(std::move(call), [array, respond = std::move(respond)](outcome<std::vector<std::string>> result) {
    if (auto* e = std::get_if<vigil_error>(&result))
      return respond(error_response(*e));
    auto& decisions = std::get<std::vector<std::string>>(result);
    if (!array)
      return respond({200, "application/json", std::move(decisions.front())});
    std::size_t size = 16;
    for (const auto& d : decisions)
      size += d.size() + 1;
    std::string out;
    out.reserve(size);
    out += "{\"results\":[";
    for (std::size_t i = 0; i < decisions.size(); ++i) {
      if (i)
        out += ',';
      out += decisions[i];
    }
    out += "]}";
    respond({200, "application/json", std::move(out)});
  });
}

void handle_predict(http_request r, node_api& node, responder& respond) {
  predict_call call;
  call.update = query_flag(r, "update");
  if (call.update)  // folds the transaction into shared state: a change like any other
    require_token(r, node);
  call.explain = query_flag(r, "explain");
  call.features = query_flag(r, "features");
  auto* lane = node.lane();
  if (!lane || (!call.explain && r.body.size() <= expensive_body_bytes))
    return submit_predict(r, std::move(call), node, respond);
  // Explanations and large arrays: parsed, explained and rendered on the
  // lane, so the I/O threads stay free for everyone else.
  auto ticket = lane->admit();
  if (!ticket)
    throw vigil_error(vigil_errc::overloaded, "too many expensive requests in progress (" +
                                                std::to_string(lane->capacity()) + "); retry later");
  call.expensive = true;
  lane->post([r = std::move(r), call = std::move(call), &node, ticket,
              respond = std::move(respond)]() mutable {
    // The ticket is held until the answer is sent.
    responder answer = [ticket, respond = std::move(respond)](http_response response) {
      respond(std::move(response));
    };
    try {
      submit_predict(r, std::move(call), node, answer);
    } catch (const vigil_error& e) {
      answer(error_response(e));
    }
  });
}

void handle_feedback(const http_request& r, node_api& node, responder& respond) {
  require_token(r, node);
  auto body = parse_body(r);
  auto now = now_ms();
  const auto skew = node.max_event_time_skew_ms();
  auto labels = parse_items(body, [now, skew](const json& j) {
    auto parsed = pipeline::label_from_json(j, now);
    if (parsed.value)
      if (auto ahead = pipeline::future_time_error(parsed.value->label_time_ms, now, skew)) {
        parsed.errors.push_back({"label_time", *ahead});
        parsed.value.reset();
      }
    return parsed;
  });
  node.feedback(std::move(labels), answer_json(std::move(respond), 200));
}

http_response config_change_response(const std::vector<config::config_error>& errors, node_api& node,
                                     const char* refusal) {
  if (!errors.empty())
    return error_response(vigil_errc::invalid_field, refusal, config::errors_json(errors));
  return json_response(200, node.config());
}

// GET /config without a token: where files live and which hosts the node
// talks to are an attacker's map, so they are shown as "(redacted)".
json redact_locations(json view) {
  static const char* locations[] = {"registry_dir", "snapshot_path", "decisions_path", "labels_path",
                                    "replay_path", "brokers", "redis", "auth_token_path",
                                    "cluster_address", "cluster_advertise"};
  auto& config = view["config"];
  for (const char* field : locations)
    if (config.contains(field) && config[field] != "")
      config[field] = "(redacted)";
  view["redacted"] = true;
  return view;
}

// GET /cluster without a token: who the members are and how their links
// are, but not where they listen.
json redact_member_addresses(json view) {
  if (view.contains("members"))
    for (auto& member : view["members"])
      for (const char* field : {"host", "cluster_port", "http_address"})
        if (member.contains(field))
          member[field] = "(redacted)";
  view["redacted"] = true;
  return view;
}

const std::vector<std::string>& known_paths() {
  static const std::vector<std::string> known = {"/predict", "/feedback", "/config", "/health",
                                                 "/ready", "/metrics", "/models", "/retrain",
                                                 "/cluster", "/openapi.json", "/"};
  return known;
}

void dispatch(http_request r, node_api& node, responder& respond) {
  const auto& p = r.path;
  if (p == "/health" && r.method == "GET")
    return respond(json_response(200, {{"status", "ok"}}));
  if (p == "/health" && r.method == "HEAD")  // probes that only look at the status
    return respond({200, "application/json", ""});
  if (p == "/predict" && r.method == "POST")
    return handle_predict(std::move(r), node, respond);
  if (p == "/feedback" && r.method == "POST")
    return handle_feedback(r, node, respond);
  if (p == "/config" && r.method == "GET") {
    // Anyone may read the settings; file paths and addresses only with the token.
    bool full = !r.authorization.empty();
    if (full)
      require_token(r, node);
    return respond(json_response(200, full ? node.config() : redact_locations(node.config())));
  }
  if (p == "/config" && r.method == "PUT")
    throw vigil_error(vigil_errc::method_not_allowed,
                      "PUT /config is not supported: send the fields to change with PATCH /config "
                      "(a merge; fields left out keep their values)");
  if (p == "/config" && r.method == "PATCH") {
    require_token(r, node);
    return respond(config_change_response(node.update_config(parse_body(r)), node,
                                          "config change refused; nothing was changed"));
  }
  if (p.rfind("/config/rollback/", 0) == 0 && r.method == "POST") {
    require_token(r, node);
    return respond(config_change_response(node.rollback_config(parse_version(p.substr(17), "config version")), node,
                                          "rollback refused"));
  }
  if (p == "/ready" && (r.method == "GET" || r.method == "HEAD"))
    return node.readiness([head = r.method == "HEAD", respond = std::move(respond)](outcome<json> result) {
      if (auto* e = std::get_if<vigil_error>(&result))
        return respond(error_response(*e));
      const auto& status = std::get<json>(result);
      auto response = json_response(status.value("ready", false) ? 200 : 503, status);
      if (head)
        response.body.clear();
      respond(std::move(response));
    });
  if (p == "/cluster" && r.method == "GET") {
    bool full = !r.authorization.empty();
    if (full)
      require_token(r, node);
    return node.cluster([full, respond = std::move(respond)](outcome<json> result) {
      if (auto* e = std::get_if<vigil_error>(&result))
        return respond(error_response(*e));
      auto& view = std::get<json>(result);
      respond(json_response(200, full ? std::move(view) : redact_member_addresses(std::move(view))));
    });
  }
  if (p == "/metrics" && r.method == "GET")
    return respond({200, "text/plain; version=0.0.4", node.metrics_text()});
  if (p == "/models" && r.method == "GET")
    return node.models(answer_json(std::move(respond), 200));
  if (p.rfind("/models/", 0) == 0 && r.method == "POST" && p.size() > 16 &&
      p.compare(p.size() - 8, 8, "/promote") == 0) {
    require_token(r, node);
    int version = parse_version(p.substr(8, p.size() - 16), "model version");
    return node.promote(version, answer_json(std::move(respond), 200));
  }
  if (p == "/retrain" && r.method == "POST") {
    require_token(r, node);
    return node.retrain(answer_json(std::move(respond), 202));
  }
  if (dispatch_console(r, node, respond))
    return;
  if (p == "/openapi.json" && r.method == "GET")
    return respond({200, "application/json", openapi_document()});
  if (p == "/" && r.method == "GET")
    return respond({200, "text/html; charset=utf-8", console_page()});
  for (const auto& k : known_paths())
    if (p == k || is_console_path(p))  // the path exists, the method does not
      return respond(error_response(vigil_errc::method_not_allowed,
                                    "method " + r.method + " not allowed on " + p));
  respond(error_response(vigil_errc::not_found, "no route for " + r.method + " " + p));
}

} // namespace

void route(http_request request, node_api& node, responder respond) {
  // A throw means `respond` was not called (handlers throw before they hand
  // it on), so answering here answers exactly once.
  try {
    dispatch(std::move(request), node, respond);
  } catch (const vigil_error& e) {
    respond(error_response(e));
  } catch (const std::exception& e) {
    // A handler failure is our fault: report it, keep serving.
    respond(error_response(vigil_errc::internal, std::string("internal error: ") + e.what()));
  }
}

http_response route(const http_request& request, node_api& node) {
  auto answered = std::make_shared<std::promise<http_response>>();
  auto future = answered->get_future();
  route(request, node, [answered](http_response r) { answered->set_value(std::move(r)); });
  return future.get();
}

} // namespace vigil::http
