// The review queue: which decisions it keeps and for how long, labels,
// filters and paging, and an item against its user's typical values.

#include "models/review/review_queue.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace vigil;
using models::decision_kind;

namespace {

models::decision_record decision(const std::string& id, const std::string& user, decision_kind kind,
                                 double probability = 0.5, const std::string& merchant = "m1") {
  models::decision_record d;
  d.transaction_id = id;
  d.user_id = user;
  d.merchant_id = merchant;
  d.event_time_ms = 1'700'000'000'000;
  d.decision = kind;
  d.probability = probability;
  d.features.fill(1.0f);
  return d;
}

std::vector<std::string> ids(const nlohmann::json& page) {
  std::vector<std::string> out;
  for (const auto& item : page["items"])
    out.push_back(item["transaction_id"]);
  return out;
}

pipeline::label_event label(const std::string& id, bool fraud) {
  return {id, fraud, "analyst", 1'700'000'100'000};
}

} // namespace

TEST_CASE("the queue keeps flagged decisions newest first, bounded, and ignores approvals and shadows",
          "[unit][review]") {
  models::review_queue queue({3, 100, 4});
  auto shadow = decision("s", "u", decision_kind::decline);
  shadow.shadow = true;
  queue.add({decision("a", "u1", decision_kind::review), decision("ok", "u1", decision_kind::approve),
             decision("b", "u2", decision_kind::decline), shadow});
  CHECK(ids(queue.list({})) == std::vector<std::string>{"b", "a"});
  queue.add({decision("c", "u3", decision_kind::review), decision("d", "u4", decision_kind::review)});
  auto page = queue.list({});
  CHECK(ids(page) == std::vector<std::string>{"d", "c", "b"});  // "a", the oldest, left
  CHECK(page["queued"] == 3);
  CHECK(page["capacity"] == 3);
  CHECK_FALSE(queue.detail("a"));
  CHECK(queue.detail("b"));
}

TEST_CASE("labels mark their items, and a transaction scored again keeps its place and label", "[unit][review]") {
  models::review_queue queue;
  queue.add({decision("a", "u1", decision_kind::review), decision("b", "u2", decision_kind::decline),
             decision("c", "u3", decision_kind::review)});
  CHECK(queue.label({label("a", true), label("c", false), label("unknown", true)}) == 2);
  models::review_filter f;
  f.status = "open";
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"b"});
  f.status = "fraud";
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"a"});
  f.status = "legitimate";
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"c"});
  auto item = queue.list({})["items"][2];
  CHECK(item["label"]["is_fraud"] == true);
  CHECK(item["label"]["source"] == "analyst");

  queue.add({decision("a", "u1", decision_kind::decline, 0.95)});  // a replay
  CHECK(ids(queue.list({})) == std::vector<std::string>{"c", "b", "a"});
  auto detail = *queue.detail("a");
  CHECK(detail["item"]["decision"] == "decline");
  CHECK(detail["item"]["label"]["is_fraud"] == true);
}

TEST_CASE("filters by decision, score, user, merchant and rule, and pages with next_before", "[unit][review]") {
  models::review_queue queue;
  auto ruled = decision("r", "u2", decision_kind::decline, 0.2, "m2");
  ruled.rule_hits.push_back({"deny-list", rules::rule_action::decline, 0, "listed"});
  queue.add({decision("a", "u1", decision_kind::review, 0.6), decision("b", "u1", decision_kind::decline, 0.95),
             ruled, decision("c", "u3", decision_kind::review, 0.7, "m2")});
  models::review_filter f;
  f.decision = decision_kind::decline;
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"r", "b"});
  f = {};
  f.min_score = 0.65;
  f.max_score = 0.9;
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"c"});
  f = {};
  f.user_id = "u1";
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"b", "a"});
  f = {};
  f.merchant_id = "m2";
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"c", "r"});
  f = {};
  f.rule_id = "deny-list";
  CHECK(ids(queue.list(f)) == std::vector<std::string>{"r"});

  f = {};
  f.limit = 3;
  auto first = queue.list(f);
  CHECK(ids(first) == std::vector<std::string>{"c", "r", "b"});
  REQUIRE(first["next_before"].is_number());
  CHECK(first["matching"] == 4);
  f.before = first["next_before"];
  auto second = queue.list(f);
  CHECK(ids(second) == std::vector<std::string>{"a"});
  CHECK(second["next_before"].is_null());
}

TEST_CASE("an item's typical values are the median of its user's other recent decisions", "[unit][review]") {
  models::review_queue queue({100, 1, 4});
  models::decision_batch batch;
  for (int i = 0; i < 5; ++i) {  // the first falls out: 4 kept per user
    auto d = decision("h" + std::to_string(i), "u1", decision_kind::approve);
    d.features[0] = static_cast<float>(i * 10);
    d.features[1] = i % 2 ? NAN : 3.0f;
    batch.push_back(d);
  }
  auto flagged = decision("x", "u1", decision_kind::decline);
  flagged.features[0] = 500;
  batch.push_back(flagged);
  queue.add(batch);
  auto d = *queue.detail("x");
  // Kept: h2, h3, h4 and x; x's typical comes from h2..h4 (20, 30, 40).
  CHECK(d["features"][0]["value"] == 500.0);
  CHECK(d["features"][0]["typical"] == 30.0);
  CHECK(d["features"][0]["typical_of"] == 3);
  CHECK(d["features"][1]["typical"] == 3.0);  // missing values are left out
  CHECK(d["features"][1]["typical_of"] == 2);
  std::vector<std::string> history;
  for (const auto& h : d["user_history"])
    history.push_back(h["transaction_id"]);
  CHECK(history == std::vector<std::string>{"h4", "h3", "h2"});

  // One slot: another user takes it over.
  queue.add({decision("y", "u2", decision_kind::approve)});
  CHECK((*queue.detail("x"))["user_history"].empty());
  CHECK((*queue.detail("x"))["features"][0]["typical"].is_null());
}
