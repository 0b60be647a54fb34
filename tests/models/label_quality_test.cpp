#include "models/drift/label_quality.h"
#include "models/training/scored_log.h"
#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil::models;

namespace {

std::int64_t at(const char* iso) {
  return *vigil::pipeline::parse_iso8601_ms(iso);
}

} // namespace

TEST_CASE("label quality: precision and recall of flagged decisions per week of label arrival", "[unit][drift]") {
  label_quality q;
  // 2024-01-29 was a Monday: Sunday the 28th closes the week before.
  q.add(at("2024-01-28T23:59:59Z"), true, true);
  q.add(at("2024-01-29T00:00:00Z"), true, true);   // caught
  q.add(at("2024-01-31T12:00:00Z"), true, false);  // false alarm
  q.add(at("2024-02-04T23:00:00Z"), false, true);  // missed
  q.add(at("2024-02-02T08:00:00Z"), false, false);
  auto weeks = q.weeks();
  REQUIRE(weeks.size() == 2);
  CHECK(weeks[0].week_of == "2024-01-29");  // newest first
  CHECK(weeks[0].labels == 4);
  CHECK(weeks[0].precision() == Approx(0.5));
  CHECK(weeks[0].recall() == Approx(0.5));
  CHECK(weeks[1].week_of == "2024-01-22");
  CHECK(weeks[1].precision() == 1);
  auto j = to_json(weeks);
  CHECK(j[0]["flagged_fraud"] == 1);
  CHECK(j[1]["recall"] == 1.0);
}

TEST_CASE("label quality keeps the newest weeks and ignores labels older than all of them", "[unit][drift]") {
  label_quality q(3);
  const std::int64_t week = 7LL * 24 * 3600 * 1000;
  for (int w = 0; w < 5; ++w)
    q.add(at("2024-01-01T12:00:00Z") + w * week, true, true);
  q.add(at("2024-01-01T12:00:00Z"), true, false);  // its week was dropped
  auto weeks = q.weeks();
  REQUIRE(weeks.size() == 3);
  CHECK(weeks.back().week_of == "2024-01-15");
  for (const auto& w : weeks)
    CHECK(w.labels == 1);
}

TEST_CASE("the scored log says whether a transaction was flagged and already labelled", "[unit][drift]") {
  scored_log log(10, 10);
  decision_record d;
  d.transaction_id = "t-1";
  d.decision = decision_kind::review;
  log.record(d);
  vigil::pipeline::label_event l{"t-1", true, "", 0};
  auto first = log.join(l);
  REQUIRE(first);
  CHECK(first->flagged);
  CHECK_FALSE(first->labelled);
  log.record(d);  // the same decision replayed keeps what it knew
  auto second = log.join(l);
  REQUIRE(second);
  CHECK(second->labelled);
}

TEST_CASE("a transaction labelled again keeps one training row, holding the newest label", "[unit][drift]") {
  scored_log log(10, 2);  // two labelled rows at most
  for (const char* id : {"a", "b", "c"}) {
    decision_record d;
    d.transaction_id = id;
    log.record(d);
  }
  using vigil::pipeline::label_event;
  CHECK_FALSE(log.join(label_event{"a", true, "", 0})->labelled);
  CHECK(log.join(label_event{"a", false, "", 0})->labelled);  // a correction (or a retry)
  REQUIRE(log.labelled() == 1);
  CHECK(log.labelled_rows().labels == std::vector<float>{0.f});
  log.join(label_event{"b", true, "", 0});
  log.join(label_event{"c", true, "", 0});  // "a"'s row is evicted
  REQUIRE(log.labelled() == 2);
  log.join(label_event{"c", false, "", 0});  // still finds c's row after the eviction
  auto rows = log.labelled_rows();
  REQUIRE(rows.transaction_ids.size() == 2);
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(rows.labels[i] == (rows.transaction_ids[i] == "c" ? 0.f : 1.f));
}

TEST_CASE("the scored log keeps the shadow's decision beside production's, for labels to score both",
          "[unit][drift][rules]") {
  scored_log log(10, 10);
  decision_record production;
  production.transaction_id = "t-1";
  production.decision = decision_kind::approve;
  decision_record shadow = production;
  shadow.shadow = true;
  shadow.decision = decision_kind::decline;
  decision_record alone;
  alone.transaction_id = "t-2";
  alone.shadow = true;
  log.record(production);
  log.record_shadow(shadow);
  log.record_shadow(alone);  // no production decision: nothing to keep it beside
  auto joined = log.join(vigil::pipeline::label_event{"t-1", true, "", 0});
  REQUIRE(joined);
  CHECK_FALSE(joined->flagged);
  CHECK(joined->shadow_flagged == 1);
  CHECK_FALSE(log.join(vigil::pipeline::label_event{"t-2", true, "", 0}));
  decision_record other;
  other.transaction_id = "t-3";
  log.record(other);
  CHECK(log.join(vigil::pipeline::label_event{"t-3", false, "", 0})->shadow_flagged == -1);  // no shadow ran
}
