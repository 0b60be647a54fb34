#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace vigil::pipeline;

namespace {

std::vector<labelled_transaction> simulate(std::uint64_t seed, std::int64_t count,
                                           double noise = 0.0) {
  simulator_options o;
  o.seed = seed;
  o.expected_count = count;
  o.label_noise = noise;
  transaction_simulator sim{o};
  std::vector<labelled_transaction> out;
  for (std::int64_t i = 0; i < count; ++i)
    out.push_back(sim.next());
  return out;
}

double median(std::vector<float> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](float x) { return std::isnan(x); }), v.end());
  REQUIRE_FALSE(v.empty());
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

} // namespace

TEST_CASE("the simulator is deterministic for a seed", "[unit][simulator]") {
  auto a = simulate(11, 5'000), b = simulate(11, 5'000), c = simulate(12, 5'000);
  bool all_equal = true, any_differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    all_equal = all_equal && to_json(a[i]) == to_json(b[i]);
    any_differs = any_differs || to_json(a[i]) != to_json(c[i]);
  }
  CHECK(all_equal);
  CHECK(any_differs);
}

TEST_CASE("simulated records are valid, time-ordered and uniquely identified", "[unit][simulator]") {
  auto records = simulate(5, 20'000);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto reparsed = transaction_from_json(to_json(records[i]), unknown_fields::allow);
    REQUIRE(reparsed.ok());
    ids.insert(records[i].tx.transaction_id);
    if (i > 0)
      REQUIRE(records[i].tx.event_time_ms >= records[i - 1].tx.event_time_ms);
    REQUIRE(records[i].label->label_time_ms - records[i].tx.event_time_ms >= 24 * hour_ms);
    REQUIRE(records[i].label->label_time_ms - records[i].tx.event_time_ms <= 168 * hour_ms);
  }
  CHECK(ids.size() == records.size());
}

TEST_CASE("every fraud pattern fires and the fraud rate is realistic", "[unit][simulator]") {
  simulator_options o;
  o.seed = 1;
  o.expected_count = 200'000;
  transaction_simulator sim{o};
  std::map<std::string, int> counted;
  for (int i = 0; i < 200'000; ++i) {
    auto r = sim.next();
    if (r.label->is_fraud)
      ++counted[r.label->pattern];
  }
  const auto& s = sim.stats();
  CHECK(s.transactions == 200'000);
  CHECK(s.fraud_rate() > 0.005);
  CHECK(s.fraud_rate() < 0.03);
  for (int p = 0; p < fraud_pattern_count; ++p) {
    auto name = to_string(static_cast<fraud_pattern>(p));
    INFO(name);
    CHECK(s.by_pattern[p] >= 100);
    CHECK(s.episodes[p] >= 20);
    CHECK(counted[name] == s.by_pattern[p]);
  }
}

TEST_CASE("label noise flips about the requested share of labels", "[unit][simulator]") {
  auto records = simulate(2, 50'000, 0.02);
  int flipped = 0;
  for (const auto& r : records)
    flipped += (r.label->is_fraud != !r.label->pattern.empty()) ? 1 : 0;
  CHECK(flipped > 700);
  CHECK(flipped < 1300);
}

TEST_CASE("fraud patterns are visible in behavioural features, not in a leaked field",
          "[unit][simulator]") {
  feature_store store;
  auto table = replay_for_training(simulate(9, 100'000), store);
  std::map<std::string, std::map<int, std::vector<float>>> by_pattern;
  for (std::size_t i = 0; i < table.rows(); ++i)
    for (feature f : {feature::geo_speed_kmh, feature::user_small_count_1h,
                      feature::is_new_device, feature::merchant_user_diversity})
      by_pattern[table.patterns[i]][static_cast<int>(f)].push_back(
        table.row(i)[static_cast<int>(f)]);
  auto med = [&](const std::string& p, feature f) {
    return median(by_pattern[p][static_cast<int>(f)]);
  };
  auto share_above = [&](const std::string& p, feature f, float limit) {
    const auto& v = by_pattern[p][static_cast<int>(f)];
    return double(std::count_if(v.begin(), v.end(), [&](float x) { return x > limit; })) / v.size();
  };
  // An episode's first record jumps; later ones are near the previous one.
  CHECK(share_above("geo_anomaly", feature::geo_speed_kmh, 900) > 0.3);
  // Legitimate jumps exist too (3% cross-border e-commerce), but are rarer.
  CHECK(share_above("", feature::geo_speed_kmh, 900) < 0.05);
  CHECK(med("", feature::geo_speed_kmh) < 100);
  CHECK(med("card_testing", feature::user_small_count_1h) >= 3);
  CHECK(med("", feature::user_small_count_1h) == 0);
  // Only an episode's first record is on a new device; later ones reuse it.
  auto new_device_share = [&](const std::string& p) {
    const auto& v = by_pattern[p][static_cast<int>(feature::is_new_device)];
    return double(std::count(v.begin(), v.end(), 1.0f)) / v.size();
  };
  CHECK(new_device_share("account_takeover") > 0.08);
  CHECK(new_device_share("") < 0.02);
  CHECK(med("merchant_collusion", feature::merchant_user_diversity) < 0.6);
  CHECK(med("", feature::merchant_user_diversity) > 0.6);
}

TEST_CASE("training replay releases labels only after their label time", "[unit][replay]") {
  std::vector<labelled_transaction> stream;
  auto add = [&](const char* id, const char* when, const char* label_when, bool fraud) {
    labelled_transaction r;
    r.tx.transaction_id = id;
    r.tx.user_id = id;
    r.tx.merchant_id = "m";
    r.tx.merchant_category = "retail";
    r.tx.amount = 10;
    r.tx.currency = "EUR";
    r.tx.country = "DE";
    r.tx.event_time_ms = *parse_iso8601_ms(when);
    r.label = transaction_label{fraud, fraud ? "geo_anomaly" : "", *parse_iso8601_ms(label_when)};
    stream.push_back(r);
  };
  add("a", "2024-03-04T10:00:00Z", "2024-03-04T12:00:00Z", true);
  add("b", "2024-03-04T11:00:00Z", "2024-03-09T00:00:00Z", false);
  add("c", "2024-03-04T13:00:00Z", "2024-03-09T00:00:00Z", false);
  feature_store store;
  auto table = replay_for_training(stream, store);
  REQUIRE(table.rows() == 3);
  auto labelled = [&](std::size_t row) {
    return table.row(row)[static_cast<int>(feature::merchant_labelled_30d)];
  };
  CHECK(labelled(1) == 0);  // a's label arrives at 12:00, after b
  CHECK(labelled(2) == 1);
  CHECK(table.labels[0] == 1.0f);
  CHECK(table.patterns[0] == "geo_anomaly");
}

TEST_CASE("some labels never arrive, and losing them changes no transaction", "[unit][simulator][labels]") {
  simulator_options with_loss, without;
  with_loss.seed = without.seed = 17;
  with_loss.expected_count = without.expected_count = 20'000;
  with_loss.label_loss = 0.1;
  transaction_simulator lossy{with_loss}, complete{without};
  int unlabelled = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto a = lossy.next(), b = complete.next();
    REQUIRE(a.tx.transaction_id == b.tx.transaction_id);
    REQUIRE(a.tx.event_time_ms == b.tx.event_time_ms);
    REQUIRE(b.label);
    unlabelled += a.label ? 0 : 1;
  }
  CHECK(unlabelled == lossy.stats().lost_labels);
  CHECK(unlabelled > 1'700);
  CHECK(unlabelled < 2'300);
}
