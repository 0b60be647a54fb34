#include "http/api_router.h"

#include <nlohmann/json.hpp>

namespace vigil::http {
namespace {

using json = nlohmann::json;

json error_ref() { return {{"$ref", "#/components/schemas/Error"}}; }

json responses(std::initializer_list<std::pair<const char*, const char*>> codes) {
  json out = json::object();
  for (const auto& [code, text] : codes) {
    json r{{"description", text}};
    if (code[0] != '2')
      r["content"] = {{"application/json", {{"schema", error_ref()}}}};
    out[code] = r;
  }
  return out;
}

json document() {
  json transaction = {
    {"type", "object"},
    {"additionalProperties", false},
    {"required", {"transaction_id", "user_id", "amount", "currency", "merchant", "timestamp"}},
    {"properties", {
      {"transaction_id", {{"type", "string"}, {"maxLength", 128}}},
      {"user_id", {{"type", "string"}, {"maxLength", 128}}},
      {"amount", {{"type", "number"}, {"minimum", 0}, {"maximum", 1e9}}},
      {"currency", {{"type", "string"}, {"pattern", "^[A-Z]{3}$"}}},
      {"merchant", {{"type", "object"}, {"required", {"id"}}, {"additionalProperties", false},
                    {"properties", {{"id", {{"type", "string"}}}, {"name", {{"type", "string"}}},
                                    {"category", {{"type", "string"}}}}}}},
      {"timestamp", {{"type", "string"}, {"format", "date-time"},
                     {"description", "years 0000-9999, no leap seconds, at most max_event_time_skew_ms ahead"}}},
      {"location", {{"type", "object"}, {"additionalProperties", false},
                    {"properties", {{"country", {{"type", "string"}, {"pattern", "^[A-Z]{2}$"}}},
                                    {"lat", {{"type", "number"}, {"minimum", -90}, {"maximum", 90}}},
                                    {"lon", {{"type", "number"}, {"minimum", -180}, {"maximum", 180}}}}}}},
      {"device_id", {{"type", "string"}}},
      {"channel", {{"type", "string"}, {"enum", {"pos", "online", "atm", "mobile"}}}}}}};
  json label = {{"type", "object"},
                {"additionalProperties", false},
                {"required", {"transaction_id", "is_fraud"}},
                {"properties", {{"transaction_id", {{"type", "string"}}},
                                {"is_fraud", {{"type", "boolean"}}},
                                {"source", {{"type", "string"}}},
                                {"label_time", {{"type", "string"}, {"format", "date-time"}}}}}};
  json one_or_many = [](const char* ref) {
    return json{{"oneOf", {{{"$ref", ref}}, {{"type", "array"}, {"items", {{"$ref", ref}}}, {"maxItems", 1000}}}}};
  }("#/components/schemas/Transaction");
  json bearer = json::array({{{"bearer", json::array()}}});
  return {
    {"openapi", "3.0.3"},
    {"info", {{"title", "Vigil fraud detection API"}, {"version", "1.0.0"}}},
    {"components", {
      {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
      {"schemas", {
        {"Transaction", transaction},
        {"Label", label},
        {"Error", {{"type", "object"},
                   {"properties", {{"error", {{"type", "string"}}},
                                   {"code", {{"type", "string"},
                                             {"enum", {"malformed_request", "unauthenticated", "forbidden",
                                                       "not_found", "method_not_allowed", "payload_too_large",
                                                       "unsupported_media_type", "invalid_field", "overloaded", "pipeline_unavailable",
                                                       "store_unavailable", "internal"}}}},
                                   {"details", {{"type", "array"}}}}}}}}}}},
    {"paths", {
      {"/predict", {{"post", {
        {"summary", "Score one transaction or an array; ?update=true also folds it into stream state "
                    "and needs the bearer token"},
        {"parameters", {{{"name", "update"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}},
                        {{"name", "explain"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}},
                        {{"name", "features"}, {"in", "query"}, {"schema", {{"type", "boolean"}}},
                         {"description", "include the scored feature vector in each decision"}}}},
        {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", one_or_many}}}}}}},
        {"responses", responses({{"200", "decision(s)"}, {"400", "malformed"}, {"401", "update=true without token"},
                                 {"403", "bad token"}, {"413", "body too large"}, {"415", "not application/json"},
                                 {"422", "invalid fields (unknown fields and duplicate keys included)"},
                                 {"503", "overloaded (Retry-After) or pipeline unavailable"}})}}}}},
      {"/feedback", {{"post", {
        {"summary", "Fraud labels, single or array"}, {"security", bearer},
        {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", {{"oneOf", {{{"$ref", "#/components/schemas/Label"}}, {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Label"}}}}}}}}}}}}}},
        {"responses", responses({{"200", "accepted"}, {"401", "no token"}, {"403", "bad token"}, {"422", "invalid fields"},
                                 {"503", "not stored (nothing acknowledged) or overloaded"}})}}}}},
      {"/config", {
        {"get", {{"summary", "Live config, version and history; file paths and hosts redacted without the token"},
                 {"responses", responses({{"200", "config"}, {"403", "bad token"}})}}},
        {"put", {{"summary", "Not supported: use PATCH"}, {"responses", responses({{"405", "use PATCH /config"}})}}},
        {"patch", {{"summary", "Merge these fields into the config (validated whole; fields left out keep their "
                               "values; a change to what is current is not a new version)"},
                   {"security", bearer},
                   {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
                   {"responses", responses({{"200", "applied"}, {"401", "no token"}, {"403", "bad token"}, {"422", "refused"}})}}}}},
      {"/config/rollback/{version}", {{"post", {{"security", bearer},
        {"parameters", {{{"name", "version"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "integer"}}}}}},
        {"summary", "Restore a config version whole, served model included (the token stays)"},
        {"responses", responses({{"200", "restored"}, {"422", "refused"}})}}}}},
      {"/health", {{"get", {{"summary", "Liveness"}, {"responses", responses({{"200", "alive"}})}}},
                   {"head", {{"summary", "Liveness, status only"}, {"responses", responses({{"200", "alive"}})}}}}},
      {"/ready", {{"get", {{"summary", "Readiness: model, Kafka, Redis"}, {"responses", responses({{"200", "ready"}, {"503", "not ready"}})}}},
                  {"head", {{"summary", "Readiness, status only"}, {"responses", responses({{"200", "ready"}, {"503", "not ready"}})}}}}},
      {"/metrics", {{"get", {{"summary", "Prometheus metrics"}, {"responses", responses({{"200", "text"}})}}}}},
      {"/models", {{"get", {{"summary", "Registered models"}, {"responses", responses({{"200", "models"}})}}}}},
      {"/cluster", {{"get", {{"summary", "This node's view of its cluster: members, link states, the partitions "
                                          "each reads, config and model versions; hosts and ports redacted "
                                          "without the token"},
                             {"responses", responses({{"200", "cluster view"}, {"403", "bad token"}})}}}}},
      {"/models/{version}/promote", {{"post", {{"summary", "Promote to production and hot-swap"}, {"security", bearer},
        {"parameters", {{{"name", "version"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "integer"}}}}}},
        {"responses", responses({{"200", "promoted"}, {"404", "unknown version"}, {"422", "failed the equality check"}})}}}}},
      {"/retrain", {{"post", {{"summary", "Retrain now"}, {"security", bearer}, {"responses", responses({{"202", "started"}})}}}}},
      {"/models/{version}/{chart}", {{"get", {{"summary", "A model's training chart: pr_curve.svg or confusion.svg"},
        {"parameters", {{{"name", "version"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "integer"}}}},
                        {{"name", "chart"}, {"in", "path"}, {"required", true},
                         {"schema", {{"type", "string"}, {"enum", {"pr_curve.svg", "confusion.svg"}}}}}}},
        {"responses", responses({{"200", "image/svg+xml"}, {"404", "no such model or chart"}})}}}}},
      {"/review", {{"get", {{"summary", "The review queue: flagged decisions newest first, filtered by decision, "
                                        "min_score, max_score, user_id, merchant_id, rule, status (open, fraud, "
                                        "legitimate); paged with before and limit (1-500)"},
                            {"security", bearer},
                            {"responses", responses({{"200", "items"}, {"400", "a bad parameter, named"}})}}}}},
      {"/review/{transaction_id}", {{"get", {{"summary", "One queued item: the decision with its features against "
                                                         "the user's typical values, and the user's recent decisions"},
                                             {"security", bearer},
                                             {"responses", responses({{"200", "item"}, {"404", "not queued"}})}}}}},
      {"/metrics/history", {{"get", {{"summary", "The last hour of headline figures, a sample every 10 s"},
                                     {"responses", responses({{"200", "samples"}})}}}}},
      {"/backtest", {{"post", {{"summary", "Replay the decisions log through production and a candidate "
                                           "{model, rules?, production_model?, rows?}, side by side"},
                               {"security", bearer},
                               {"responses", responses({{"200", "report"}, {"422", "a bad field, named"},
                                                        {"503", "a backtest is running"}})}}}}}}}};
}

} // namespace

const std::string& openapi_document() {
  static const std::string text = document().dump(2);
  return text;
}

} // namespace vigil::http
