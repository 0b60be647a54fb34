#include "models/drift/live_drift.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <random>
#include <set>

using namespace vigil::models;
using vigil::pipeline::feature_count;
using vigil::pipeline::feature_names;

namespace {

constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t day0_ms = 1'700'000'000'000;  // any event time

// Rows whose every feature is uniform on [0, 100) (feature 0 scaled by
// `scale_first`, feature 1 missing with probability `missing_second`), and a
// score uniform on [0, 1).
struct row_maker {
  std::mt19937 rng;
  double scale_first = 1, missing_second = 0;
  explicit row_maker(unsigned seed) : rng(seed) {}
  vigil::pipeline::feature_vector row() {
    std::uniform_real_distribution<float> u(0, 100);
    vigil::pipeline::feature_vector r{};
    for (auto& v : r)
      v = u(rng);
    r[0] = static_cast<float>(r[0] * scale_first);
    if (std::uniform_real_distribution<double>(0, 1)(rng) < missing_second)
      r[1] = NAN;
    return r;
  }
};

std::shared_ptr<scoring_model> model_with_reference(int version) {
  row_maker make(1);
  std::vector<float> rows;
  std::vector<double> scores;
  std::vector<float> labels;
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 20'000; ++i) {
    auto r = make.row();
    rows.insert(rows.end(), r.begin(), r.end());
    scores.push_back(u(make.rng));
    labels.push_back(i % 50 == 0 ? 1.f : 0.f);
  }
  const auto& names = feature_names();
  auto m = std::make_shared<scoring_model>();
  m->version = version;
  m->reference = std::make_shared<const reference_profile>(
    build_reference_profile({names.begin(), names.end()}, rows.data(), 20'000, scores, labels));
  return m;
}

decision_batch live(row_maker& make, std::size_t n, std::int64_t event_ms) {
  decision_batch batch(n);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& d : batch) {
    d.features = make.row();
    d.probability = u(make.rng);
    d.event_time_ms = event_ms;
  }
  return batch;
}

const window_drift& window_named(const drift_report& r, const std::string& name) {
  for (const auto& w : r.windows)
    if (w.window == name)
      return w;
  FAIL("no window " << name);
  throw;
}

} // namespace

TEST_CASE("live traffic like the training slice shows no drift, a shifted feature shows drift alone",
          "[unit][drift]") {
  auto model = model_with_reference(3);
  drift_tracker tracker(1);
  row_maker same(2);
  tracker.add(live(same, 20'000, day0_ms), *model);
  auto r = tracker.report();
  REQUIRE(r.has_reference);
  CHECK(r.status == "tracking");
  CHECK(r.model_version == 3);
  const auto& day = window_named(r, "24h");
  CHECK(day.rows == 20'000);
  REQUIRE(day.features.size() == static_cast<std::size_t>(feature_count));
  for (const auto& f : day.features)
    CHECK(f.psi < 0.01);
  CHECK(day.score.psi < 0.01);

  drift_tracker shifted_tracker(1);
  row_maker shifted(3);
  shifted.scale_first = 3;      // amounts scaled by 3
  shifted.missing_second = 0.5;  // a feature half missing
  shifted_tracker.add(live(shifted, 20'000, day0_ms), *model);
  const auto& w = window_named(shifted_tracker.report(), "24h");
  CHECK(w.features[0].psi > 0.25);
  CHECK(w.features[1].psi > 0.25);
  CHECK(w.features[1].missing_share == Approx(0.5).margin(0.02));
  CHECK(w.features[1].reference_missing_share == 0);
  for (std::size_t f = 2; f < w.features.size(); ++f)
    CHECK(w.features[f].psi < 0.01);
  const auto top_name = w.most_drifted()->name;
  CHECK((top_name == feature_names()[0] || top_name == feature_names()[1]));
  CHECK(w.score.psi < 0.01);

  // Ranked by drift in JSON, the two shifted features first, with both
  // distributions to draw.
  auto j = to_json(shifted_tracker.report());
  const auto& ranked = j["windows"][1]["features"];
  std::set<std::string> top_two{ranked[0]["name"], ranked[1]["name"]};
  CHECK(top_two == std::set<std::string>{feature_names()[0], feature_names()[1]});
  const auto& top = ranked[0];
  CHECK(top["shares"].size() == top["reference_shares"].size());
  CHECK(top["upper_edges"].size() + 1 == top["shares"].size());
}

TEST_CASE("drift windows follow event time: the last hour, day, 7 and 30 days, nothing older", "[unit][drift]") {
  auto model = model_with_reference(1);
  drift_tracker tracker(1);
  row_maker make(4);
  const std::int64_t now = day0_ms, hour = 60 * minute_ms, day = 24 * hour;
  tracker.add(live(make, 400, now), *model);
  tracker.add(live(make, 300, now - 20 * minute_ms), *model);  // every window
  tracker.add(live(make, 200, now - 5 * hour), *model);        // from 24 h on
  tracker.add(live(make, 100, now - 3 * day), *model);         // from 7 d on
  tracker.add(live(make, 50, now - 10 * day), *model);         // 30 d only
  tracker.add(live(make, 25, now - 40 * day), *model);         // older than all: not counted
  auto r = tracker.report();
  CHECK(window_named(r, "1h").rows == 700);
  CHECK(window_named(r, "24h").rows == 900);
  CHECK(window_named(r, "7d").rows == 1000);
  CHECK(window_named(r, "30d").rows == 1050);
  CHECK(r.newest_event_ms >= now);
  // Counts began 10 days before the newest event: the windows up to 7 days
  // are complete, the 30-day one is not.
  CHECK(window_named(r, "7d").complete);
  CHECK_FALSE(window_named(r, "30d").complete);
  // Time moves on: 40 days later the old buckets are gone.
  tracker.add(live(make, 10, now + 40 * day), *model);
  r = tracker.report();
  for (const auto& w : drift_windows())
    CHECK(window_named(r, w).rows == 10);
}

TEST_CASE("a new model starts drift over, one without a reference says so, shadow traffic is not counted",
          "[unit][drift]") {
  drift_tracker tracker(1);
  CHECK(tracker.report().status == "nothing scored yet");
  row_maker make(5);
  auto v1 = model_with_reference(1);
  tracker.add(live(make, 500, day0_ms), *v1);
  auto shadow = live(make, 700, day0_ms);
  for (auto& d : shadow)
    d.shadow = true;
  tracker.add(shadow, *v1);
  CHECK(window_named(tracker.report(), "24h").rows == 500);

  auto v2 = model_with_reference(2);
  tracker.add(live(make, 40, day0_ms), *v2);
  auto r = tracker.report();
  CHECK(r.model_version == 2);
  CHECK(window_named(r, "24h").rows == 40);

  auto old = std::make_shared<scoring_model>();
  old->version = 3;
  old->reference_problem = "no reference";
  tracker.add(live(make, 40, day0_ms), *old);
  r = tracker.report();
  CHECK_FALSE(r.has_reference);
  CHECK(r.status == "no reference");
  CHECK(r.windows.empty());
  CHECK(to_json(r)["reference"].is_null());
}

TEST_CASE("a sampling tracker counts one live decision in N, across batches", "[unit][drift]") {
  auto model = model_with_reference(1);
  drift_tracker tracker(2);
  row_maker make(6);
  tracker.add(live(make, 301, day0_ms), *model);
  tracker.add(live(make, 299, day0_ms), *model);
  auto r = tracker.report();
  CHECK(r.sample_every == 2);
  CHECK(window_named(r, "24h").rows == 300);
}

TEST_CASE("a reference with more bins than the tracker keeps is compared in merged bins", "[unit][drift]") {
  // Feature 0's reference in 40 bins: counted in 14 (every third edge kept).
  auto model = model_with_reference(1);
  auto fine = std::make_shared<reference_profile>(*model->reference);
  std::vector<double> values;
  row_maker make(7);
  for (int i = 0; i < 20'000; ++i)
    values.push_back(make.row()[0]);
  fine->features[0] = profile_reference(values, 40);
  REQUIRE(fine->features[0].upper_edges.size() == 39);
  auto m = std::make_shared<scoring_model>(*model);
  m->reference = fine;
  drift_tracker tracker(1);
  row_maker same(8);
  tracker.add(live(same, 20'000, day0_ms), *m);
  const auto& f = window_named(tracker.report(), "24h").features[0];
  CHECK(f.shares.size() == 14);
  CHECK(f.reference_shares.size() == 14);
  CHECK(f.upper_edges.size() + 1 == f.shares.size());
  CHECK(f.psi < 0.01);
}

TEST_CASE("PSI counts a feature going missing as drift", "[unit][drift]") {
  distribution_profile ref;
  ref.upper_edges = {1, 2};
  ref.shares = {0.3, 0.3, 0.4};
  ref.missing_share = 0;
  CHECK(drift_psi(ref, {0.3, 0.3, 0.4}, 0.0) == Approx(0).margin(1e-12));
  CHECK(drift_psi(ref, {0.3, 0.3, 0.4}, 0.5) > 1);
}

namespace {

// The same windows, rows and per-variable distributions in both reports.
void check_same_drift(const drift_report& got, const drift_report& expected) {
  REQUIRE(got.windows.size() == expected.windows.size());
  for (std::size_t w = 0; w < got.windows.size(); ++w) {
    const auto &g = got.windows[w], &e = expected.windows[w];
    INFO(e.window);
    CHECK(g.rows == e.rows);
    CHECK(g.complete == e.complete);
    REQUIRE(g.features.size() == e.features.size());
    for (std::size_t f = 0; f < g.features.size(); ++f) {
      CHECK(g.features[f].shares == e.features[f].shares);
      CHECK(g.features[f].missing_share == e.features[f].missing_share);
      CHECK(g.features[f].psi == Approx(e.features[f].psi));
    }
    CHECK(g.score.shares == e.score.shares);
  }
}

} // namespace

TEST_CASE("cluster drift: nodes' shared counts, added up, report as one tracker fed all of their traffic",
          "[unit][drift][cluster]") {
  auto model = model_with_reference(4);
  drift_tracker one(1), node_a(1, true), node_b(1, true);
  row_maker make(8);
  make.scale_first = 2;  // some drift to compare
  drift_counts totals;
  auto share = [&](drift_tracker& node) {
    for (const auto& s : node.take_unshared())
      add_share(totals, s);
  };
  // Forty hours of traffic, every 20 minutes, alternating nodes, shared now
  // and then: 10-minute buckets are reused (their counts joining their day)
  // before some shares, and late events land in day buckets directly.
  for (int step = 0; step < 120; ++step) {
    const std::int64_t event_ms = day0_ms + step * 20 * minute_ms;
    auto batch = live(make, 50 + step % 7, event_ms);
    one.add(batch, *model);
    (step % 2 ? node_a : node_b).add(batch, *model);
    if (step % 90 == 89) {
      auto late = live(make, 30, event_ms - 30 * 60 * minute_ms);  // 30 hours late
      one.add(late, *model);
      node_a.add(late, *model);
    }
    if (step % 37 == 0)
      share(node_a);
    if (step % 53 == 0)
      share(node_b);
  }
  share(node_a);
  share(node_b);
  CHECK(node_a.take_unshared().empty());  // each count goes out once

  auto cluster = node_a.report_of(totals);
  REQUIRE(cluster);
  CHECK(cluster->scope == "cluster");
  CHECK(cluster->model_version == 4);
  check_same_drift(*cluster, one.report());
  CHECK(window_named(*cluster, "7d").rows > window_named(node_a.report(), "7d").rows);
  CHECK(to_json(*cluster)["scope"] == "cluster");

  // Counts of another model version, or with other bins, are not reported.
  auto other = totals;
  other.model_version = 5;
  CHECK_FALSE(node_a.report_of(other));
  other = totals;
  other.counters += 1;
  CHECK_FALSE(node_a.report_of(other));
}

TEST_CASE("cluster drift: a share after days of event time carries at most a day of 10-minute buckets and still "
          "reports as one tracker",
          "[unit][drift][cluster]") {
  auto model = model_with_reference(4);
  drift_tracker one(1), node(1, true);
  row_maker make(9);
  drift_counts totals;
  std::size_t minute_buckets = 0, day_buckets = 0;
  auto share = [&] {
    for (const auto& s : node.take_unshared()) {
      minute_buckets += s.minute_buckets.size();
      day_buckets += s.day_buckets.size();
      add_share(totals, s);
    }
  };
  // Ten days of events every 10 minutes between two shares, as a replay
  // crosses them in seconds: every 10-minute bucket is reused nine times.
  for (int step = 0; step < 10 * 144; ++step) {
    auto batch = live(make, 5, day0_ms + step * 10 * minute_ms);
    one.add(batch, *model);
    node.add(batch, *model);
  }
  share();
  CHECK(minute_buckets <= 144);  // the last day's only; older ones went out in their days
  CHECK(day_buckets <= 11);
  auto cluster = node.report_of(totals);
  REQUIRE(cluster);
  check_same_drift(*cluster, one.report());
  // More traffic and a second share add up the same way.
  for (int step = 10 * 144; step < 12 * 144; ++step) {
    auto batch = live(make, 5, day0_ms + step * 10 * minute_ms);
    one.add(batch, *model);
    node.add(batch, *model);
  }
  share();
  cluster = node.report_of(totals);
  REQUIRE(cluster);
  check_same_drift(*cluster, one.report());
}

TEST_CASE("cluster drift: a model swap still shares the outgoing model's last counts, and a tracker that does not "
          "share keeps nothing aside",
          "[unit][drift][cluster]") {
  drift_tracker node(1, true), alone(1);
  row_maker make(9);
  auto v1 = model_with_reference(1), v2 = model_with_reference(2);
  node.add(live(make, 30, day0_ms), *v1);
  alone.add(live(make, 30, day0_ms), *v1);
  node.add(live(make, 20, day0_ms), *v2);
  auto shares = node.take_unshared();
  REQUIRE(shares.size() == 2);
  CHECK(shares[0].model_version == 1);
  CHECK(shares[0].minute_buckets.at(0).rows == 30);
  CHECK(shares[1].model_version == 2);
  CHECK(shares[1].minute_buckets.at(0).rows == 20);
  CHECK(shares[1].counters == node.counters());
  CHECK(node.model_version() == 2);
  CHECK(alone.take_unshared().empty());
}
