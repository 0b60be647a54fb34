#include "models/training/scored_log.h"

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <random>
#include <string>

using namespace vigil::models;

namespace {

decision_record decision(const std::string& id, float marker) {
  decision_record d;
  d.transaction_id = id;
  d.user_id = "u-" + id;
  d.merchant_id = "a merchant id longer than the small-string buffer " + id;
  d.features[0] = marker;
  d.decision = marker > 0.5f ? decision_kind::review : decision_kind::approve;
  return d;
}

} // namespace

TEST_CASE("the scored log keeps the newest decisions in arrival order, a replay keeping its place",
          "[unit][retrain]") {
  // Against a plain model of the same rules: 20,000 records of 3,000 ids
  // (replays included) through a log of 1,000, checked as it wraps.
  constexpr std::size_t capacity = 1'000;
  scored_log log(capacity, 100'000);
  std::deque<std::string> order;          // the model: ids in arrival order
  std::map<std::string, float> newest;    // id -> the last recorded marker
  std::mt19937 random(7);
  std::uniform_int_distribution<int> pick(0, 2'999);
  for (int step = 0; step < 20'000; ++step) {
    auto id = "tx-" + std::to_string(pick(random));
    auto marker = static_cast<float>(step) / 20'000.0f;
    log.record(decision(id, marker));
    if (!newest.count(id)) {
      order.push_back(id);
      if (order.size() > capacity) {
        newest.erase(order.front());
        order.pop_front();
      }
    }
    newest[id] = marker;
    REQUIRE(log.scored() == newest.size());
    if (step % 997 == 0) {  // every id of the pool, found or not as the model says
      for (int k = 0; k < 3'000; ++k) {
        auto probe = "tx-" + std::to_string(k);
        auto joined = log.join({probe, false, "", 0});
        auto it = newest.find(probe);
        REQUIRE(joined.has_value() == (it != newest.end()));
        if (joined) {
          CHECK(joined->features[0] == it->second);
          CHECK(joined->user_id == "u-" + probe);
          CHECK(joined->flagged == (it->second > 0.5f));
        }
      }
    }
  }
}

TEST_CASE("a scored log of no decisions keeps none", "[unit][retrain]") {
  scored_log log(0, 10);
  log.record(decision("a", 1));
  CHECK(log.scored() == 0);
  CHECK_FALSE(log.join({"a", true, "", 0}));
}
