#include "models/serving/decision_json.h"

#include "pipeline/features/recent_set.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/stream/work_item.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>

namespace vigil::models {

std::string feature_snapshot_id(const pipeline::feature_vector& features) {
  auto h = pipeline::stable_hash(reinterpret_cast<const char*>(features.data()),
                                 features.size() * sizeof(float));
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    out[static_cast<std::size_t>(i)] = hex[h & 0xf];
  return out;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
      return 0;
  return n;
}

// A JSON string; invalid UTF-8 becomes U+FFFD (client ids are not trusted).
void append_string(std::string& out, const std::string& s) {
  out += '"';
  // Ids are mostly printable ASCII: copied whole when nothing needs escaping.
  bool plain = std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
  });
  if (plain) {
    out += s;
    out += '"';
    return;
  }
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
    } else if (auto n = utf8_sequence(s, i); n > 0) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

// Shortest text that reads back as the same value; NaN and infinities are null.
template <class Number>
void append_number(std::string& out, Number v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  // Whole numbers below 100,000 print the same as integers (the shortest
  // form is the fixed one there), and integer printing is several times
  // cheaper; -0 keeps its sign through to_chars.
  if constexpr (std::is_floating_point_v<Number>) {
    if (v > -100000 && v < 100000 && v == static_cast<long>(v) && !(v == 0 && std::signbit(v))) {
      auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long>(v));
      out.append(buf, r.ptr);
      return;
    }
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Writes one JSON object's members in the order they are added.
class object_writer {
 public:
  explicit object_writer(std::string& out) : out_(out) { out_ += '{'; }
  ~object_writer() { out_ += '}'; }
  /// Starts member `key`; the caller writes its value into the string.
  std::string& key(const char* key) {
    out_ += first_ ? "\"" : ",\"";
    first_ = false;
    out_ += key;
    out_ += "\":";
    return out_;
  }
  void string(const char* key, const std::string& value) { append_string(this->key(key), value); }
  template <class Number>
  void number(const char* key, Number value) { append_number(this->key(key), value); }

 private:
  std::string& out_;
  bool first_ = true;
};

} // namespace

std::string render_decision(const decision_record& d, bool with_features) {
  // Keys in alphabetical order, as before this renderer replaced nlohmann's.
  std::string out;
  out.reserve(with_features ? 1536 : 512);
  {  // the writer closes the object when it goes out of scope
    object_writer o(out);
    o.string("decision", models::to_string(d.decision));
    o.string("event_time", pipeline::format_iso8601_ms(d.event_time_ms));
    o.string("feature_snapshot_id", feature_snapshot_id(d.features));
    if (with_features) {
      // Feature names sorted, as nlohmann's std::map object had them.
      static const auto order = [] {
        const auto& names = pipeline::feature_names();
        std::vector<std::size_t> idx(names.size());
        for (std::size_t i = 0; i < idx.size(); ++i)
          idx[i] = i;
        std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return std::strcmp(names[a], names[b]) < 0; });
        return idx;
      }();
      const auto& names = pipeline::feature_names();
      object_writer features(o.key("features"));
      for (auto i : order)
        features.number(names[i], d.features[i]);
    }
    o.number("latency_us", d.latency_us);
    o.string("merchant_id", d.merchant_id);
    o.number("model_version", d.model_version);
    o.number("probability", d.probability);
    auto& reasons = o.key("reasons");
    reasons += '[';
    // Rule hits first (they decided, or helped decide), then the model's.
    for (std::size_t i = 0; i < d.rule_hits.size(); ++i) {
      if (i)
        reasons += ',';
      object_writer r(reasons);
      r.string("action", rules::to_string(d.rule_hits[i].action));
      r.string("description", d.rule_hits[i].description);
      r.string("rule", d.rule_hits[i].id);
      if (d.rule_hits[i].action == rules::rule_action::adjust)
        r.number("score_delta", d.rule_hits[i].score_delta);
    }
    for (std::size_t i = 0; i < d.reasons.size(); ++i) {
      if (i || !d.rule_hits.empty())
        reasons += ',';
      object_writer r(reasons);
      r.number("contribution", d.reasons[i].contribution);
      r.string("feature", d.reasons[i].feature);
      r.number("value", d.reasons[i].value);
    }
    reasons += ']';
    if (d.rule_adjustment != 0)
      o.number("rule_adjustment", d.rule_adjustment);
    if (d.shadow)
      o.key("shadow") += "true";
    if (d.source_time_ms)
      o.number("source_time_ms", d.source_time_ms);
    o.string("transaction_id", d.transaction_id);
    o.string("user_id", d.user_id);
  }
  return out;
}

nlohmann::json decision_to_json(const decision_record& d, bool with_features) {
  return nlohmann::json::parse(render_decision(d, with_features));
}

namespace {

// The decision and its reasons, when the record has them in the published
// form (older records, or other writers', may not: they stay approve with
// no reasons).
void read_outcome(const nlohmann::json& j, decision_record& d) {
  auto decision = j.find("decision");
  if (decision != j.end() && decision->is_string())
    for (auto kind : {decision_kind::approve, decision_kind::review, decision_kind::decline})
      if (*decision == to_string(kind))
        d.decision = kind;
  auto reasons = j.find("reasons");
  if (reasons == j.end() || !reasons->is_array())
    return;
  for (const auto& r : *reasons) {
    if (!r.is_object())
      continue;
    if (r.contains("rule") && r["rule"].is_string()) {
      rules::rule_hit hit;
      hit.id = r["rule"];
      auto action = r.value("action", std::string("review"));
      for (auto a : {rules::rule_action::review, rules::rule_action::decline, rules::rule_action::allow,
                     rules::rule_action::adjust})
        if (action == rules::to_string(a))
          hit.action = a;
      hit.description = r.value("description", std::string());
      if (r.contains("score_delta") && r["score_delta"].is_number())
        hit.score_delta = r["score_delta"];
      d.rule_hits.push_back(std::move(hit));
    } else if (r.contains("feature") && r["feature"].is_string() && r.value("contribution", nlohmann::json()).is_number()) {
      decision_reason reason;
      reason.feature = r["feature"];
      reason.contribution = r["contribution"];
      auto value = r.find("value");
      reason.value = value != r.end() && value->is_number() ? value->get<float>()
                                                            : std::numeric_limits<float>::quiet_NaN();
      d.reasons.push_back(std::move(reason));
    }
  }
}

} // namespace

std::optional<decision_record> decision_from_json(const nlohmann::json& j) {
  if (!j.is_object())
    return std::nullopt;
  auto text = [&](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto features = j.find("features");
  auto probability = j.find("probability");
  auto version = j.find("model_version");
  const auto* event_time = text("event_time");
  if (!text("transaction_id") || !text("user_id") || !text("merchant_id") || !event_time ||
      features == j.end() || !features->is_object() || probability == j.end() ||
      !probability->is_number() || version == j.end() || !version->is_number_integer())
    return std::nullopt;
  decision_record d;
  d.transaction_id = *text("transaction_id");
  d.user_id = *text("user_id");
  d.merchant_id = *text("merchant_id");
  auto ms = pipeline::parse_iso8601_ms(*event_time);
  if (!ms)
    return std::nullopt;
  d.event_time_ms = *ms;
  d.probability = probability->get<double>();
  d.model_version = version->get<int>();
  const auto& names = pipeline::feature_names();
  for (std::size_t i = 0; i < d.features.size(); ++i) {
    auto value = features->find(names[i]);
    if (value == features->end() || !(value->is_number() || value->is_null()))
      return std::nullopt;
    d.features[i] = value->is_null() ? std::numeric_limits<float>::quiet_NaN() : value->get<float>();
  }
  read_outcome(j, d);
  return d;
}

std::vector<std::string> finish_decisions(decision_batch& decisions, const scoring_model& model,
                                          bool explain, bool with_features, std::int64_t received_ns) {
  for (auto& d : decisions)
    if (d.reasons.empty() && (explain || d.decision != decision_kind::approve))
      d.reasons = model.top_reasons(d.features);
  auto latency_us = (pipeline::steady_now_ns() - received_ns) / 1000;
  std::vector<std::string> out;
  out.reserve(decisions.size());
  for (auto& d : decisions) {
    d.latency_us = latency_us;
    out.push_back(render_decision(d, with_features));
  }
  return out;
}

} // namespace vigil::models
