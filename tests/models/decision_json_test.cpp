// The decision renderer's text: numbers in their shortest exact form (the
// integer shortcut prints what std::to_chars prints), times as ISO-8601
// (the direct formatter agrees with gmtime), ids escaped.

#include "models/serving/decision_json.h"
#include "models/serving/rule_decision.h"
#include "pipeline/features/recent_set.h"
#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

using namespace vigil;
using json = nlohmann::json;

namespace {

std::string shortest(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// The text of feature 0 in a rendered decision.
std::string rendered_feature(float v) {
  models::decision_record d;
  d.transaction_id = "t";
  d.features.fill(0);
  d.features[0] = v;
  auto text = models::render_decision(d, true);
  const auto& name = pipeline::feature_names()[0];
  auto key = std::string("\"") + name + "\":";
  auto at = text.find(key);
  REQUIRE(at != std::string::npos);
  at += key.size();
  return text.substr(at, text.find_first_of(",}", at) - at);
}

std::string gmtime_text(std::int64_t ms) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - secs * 1000));
  return buf;
}

} // namespace

TEST_CASE("feature values render as std::to_chars' shortest form", "[unit][serving]") {
  for (float v : {0.0f, -0.0f, 1.0f, -1.0f, 7.0f, 9999.0f, 10000.0f, 99999.0f, -99999.0f, 100000.0f, 120000.0f,
                  1e7f, 0.5f, 74.92f, 1e-7f, -3.25f, 16777216.0f})
    CHECK(rendered_feature(v) == shortest(v));
  std::mt19937 rng{5};
  std::uniform_int_distribution<int> whole(-150000, 150000);
  std::uniform_real_distribution<float> any(-1e6f, 1e6f);
  for (int i = 0; i < 2000; ++i) {
    auto w = static_cast<float>(whole(rng));
    REQUIRE(rendered_feature(w) == shortest(w));
    auto f = any(rng);
    REQUIRE(rendered_feature(f) == shortest(f));
  }
  CHECK(rendered_feature(std::nanf("")) == "null");
}

TEST_CASE("timestamps format as gmtime does over years 0000-9999", "[unit][serving]") {
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1709288130250}, std::int64_t{951782400000},
                          pipeline::min_timestamp_ms, pipeline::max_timestamp_ms, std::int64_t{-86400000},
                          std::int64_t{4107542399999}})
    CHECK(pipeline::format_iso8601_ms(ms) == gmtime_text(ms));
  std::mt19937_64 rng{9};
  std::uniform_int_distribution<std::int64_t> any(pipeline::min_timestamp_ms, pipeline::max_timestamp_ms);
  for (int i = 0; i < 20000; ++i) {
    auto ms = any(rng);
    REQUIRE(pipeline::format_iso8601_ms(ms) == gmtime_text(ms));
    // and it reads back
    REQUIRE(pipeline::parse_iso8601_ms(pipeline::format_iso8601_ms(ms)) == ms);
  }
}

TEST_CASE("ids are escaped, and plain ones copied as they are", "[unit][serving]") {
  models::decision_record d;
  d.features.fill(0);
  d.transaction_id = "tx-1";
  d.user_id = std::string("u\"\\\x01\xff", 5);
  d.merchant_id = "caf\xc3\xa9";
  auto j = nlohmann::json::parse(models::render_decision(d, false));
  CHECK(j["transaction_id"] == "tx-1");
  CHECK(j["user_id"] == "u\"\\\x01\xef\xbf\xbd");
  CHECK(j["merchant_id"] == "caf\xc3\xa9");
  CHECK(j["feature_snapshot_id"].get<std::string>() == models::feature_snapshot_id(d.features));
  // The same text as the printf form of earlier logs, so their ids still join.
  d.features[3] = 74.92f;
  auto h = pipeline::stable_hash(reinterpret_cast<const char*>(d.features.data()), d.features.size() * sizeof(float));
  char printf_form[17];
  std::snprintf(printf_form, sizeof printf_form, "%016llx", static_cast<unsigned long long>(h));
  CHECK(models::feature_snapshot_id(d.features) == printf_form);
}

TEST_CASE("rules decide with the model: decline beats allow beats review, adjust moves the score",
          "[unit][serving][rules]") {
  using models::decision_kind;
  using rules::rule_action;
  const models::decision_thresholds t{0.5, 0.9};
  auto hit = [](rule_action a, double delta = 0) { return rules::rule_hit{"r", a, delta, ""}; };
  CHECK(models::decide_with_hits(0.1, {}, t) == decision_kind::approve);
  CHECK(models::decide_with_hits(0.1, {hit(rule_action::review)}, t) == decision_kind::review);
  CHECK(models::decide_with_hits(0.95, {hit(rule_action::review)}, t) == decision_kind::decline);
  CHECK(models::decide_with_hits(0.95, {hit(rule_action::allow)}, t) == decision_kind::approve);
  CHECK(models::decide_with_hits(0.1, {hit(rule_action::allow), hit(rule_action::decline)}, t) ==
        decision_kind::decline);
  CHECK(models::decide_with_hits(0.4, {hit(rule_action::adjust, 0.15)}, t) == decision_kind::review);
  CHECK(models::decide_with_hits(0.4, {hit(rule_action::adjust, 0.3), hit(rule_action::adjust, 0.3)}, t) ==
        decision_kind::decline);
  CHECK(models::decide_with_hits(0.6, {hit(rule_action::adjust, -0.2)}, t) == decision_kind::approve);
  CHECK(models::decide_with_hits(0.2, {hit(rule_action::adjust, -1)}, t) == decision_kind::approve);  // clamped

  // Through apply_rules: the hits and the adjustment are kept, and rendered
  // as reasons ahead of the model's.
  auto set = rules::rule_set::compile({{"big", "tx.amount > 500", "adjust", 0.3, "large amount"},
                                       {"watch", "tx.country == 'NG'", "review", 0, "watched country"},
                                       {"never", "tx.amount < 0", "decline", 0, ""}});
  pipeline::transaction tx;
  tx.amount = 800;
  tx.country = "NG";
  models::decision_record d;
  d.probability = 0.3;
  models::apply_rules(d, tx, set, t);
  REQUIRE(d.rule_hits.size() == 2);
  CHECK(d.rule_adjustment == Approx(0.3));
  CHECK(d.decision == decision_kind::review);
  CHECK(d.probability == 0.3);  // the model's own, as labels will be joined against
  d.reasons.push_back({"amount", 800, 1.25});
  auto j = json::parse(models::render_decision(d, false));
  REQUIRE(j["reasons"].size() == 3);
  CHECK(j["reasons"][0] == json::parse(
                             R"({"rule": "big", "action": "adjust", "score_delta": 0.3, "description": "large amount"})"));
  CHECK(j["reasons"][1]["rule"] == "watch");
  CHECK(j["reasons"][2]["feature"] == "amount");
  CHECK(j["rule_adjustment"] == 0.3);
  CHECK(j["probability"] == 0.3);

  models::decision_record quiet;
  quiet.probability = 0.3;
  tx.amount = 20;
  tx.country = "NL";
  models::apply_rules(quiet, tx, set, t);
  CHECK(quiet.rule_hits.empty());
  auto plain = json::parse(models::render_decision(quiet, false));
  CHECK_FALSE(plain.contains("rule_adjustment"));
  CHECK(plain["reasons"].empty());
}

TEST_CASE("a published decision reads back with its outcome, rule hits and reasons", "[unit][serving]") {
  models::decision_record d;
  d.transaction_id = "t1";
  d.user_id = "u1";
  d.merchant_id = "m1";
  d.event_time_ms = 1'700'000'000'000;
  d.probability = 0.93;
  d.decision = models::decision_kind::decline;
  d.model_version = 4;
  d.features.fill(2.5f);
  d.rule_hits.push_back({"deny", rules::rule_action::decline, 0, "listed"});
  d.rule_hits.push_back({"bump", rules::rule_action::adjust, 0.2, ""});
  d.reasons.push_back({"amount", 2.5f, 1.25});
  auto back = models::decision_from_json(json::parse(models::render_decision(d, true)));
  REQUIRE(back);
  CHECK(back->decision == models::decision_kind::decline);
  REQUIRE(back->rule_hits.size() == 2);
  CHECK(back->rule_hits[0].id == "deny");
  CHECK(back->rule_hits[0].action == rules::rule_action::decline);
  CHECK(back->rule_hits[0].description == "listed");
  CHECK(back->rule_hits[1].action == rules::rule_action::adjust);
  CHECK(back->rule_hits[1].score_delta == 0.2);
  REQUIRE(back->reasons.size() == 1);
  CHECK(back->reasons[0].feature == "amount");
  CHECK(back->reasons[0].contribution == 1.25);
  CHECK(back->reasons[0].value == 2.5f);

  // A record without them (an older writer) still reads, as approve.
  auto bare = json::parse(models::render_decision(d, true));
  bare.erase("decision");
  bare.erase("reasons");
  auto plain = models::decision_from_json(bare);
  REQUIRE(plain);
  CHECK(plain->decision == models::decision_kind::approve);
  CHECK(plain->reasons.empty());
}
