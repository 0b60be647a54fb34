#include "pipeline/features/feature_store.h"
#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace vigil::pipeline;

namespace {

std::int64_t at(const char* iso) { return *parse_iso8601_ms(iso); }

transaction make_tx(const std::string& user, const std::string& merchant, const char* when,
                    double amount, const std::string& country = "DE",
                    std::optional<double> lat = 52.52, std::optional<double> lon = 13.40,
                    const std::string& device = "d-1") {
  transaction tx;
  tx.transaction_id = user + "@" + when;
  tx.user_id = user;
  tx.merchant_id = merchant;
  tx.merchant_category = "grocery";
  tx.amount = amount;
  tx.currency = "EUR";
  tx.event_time_ms = at(when);
  tx.country = country;
  tx.latitude = lat;
  tx.longitude = lon;
  tx.device_id = device;
  tx.channel = "pos";
  return tx;
}

float get(const feature_vector& v, feature f) { return v[static_cast<int>(f)]; }

} // namespace

TEST_CASE("a user's first transaction has empty history features", "[unit][features]") {
  feature_store store;
  // 2024-01-06 is a Saturday.
  auto v = store.features(make_tx("u", "m", "2024-01-06T23:00:00Z", 25.0), false);
  CHECK(get(v, feature::amount) == 25.0f);
  CHECK(get(v, feature::log_amount) == Approx(std::log1p(25.0)));
  CHECK(get(v, feature::hour_of_day) == 23);
  CHECK(get(v, feature::is_night) == 0);
  CHECK(get(v, feature::is_weekend) == 1);
  CHECK(get(v, feature::channel_code) == 0);
  CHECK(get(v, feature::category_code) == 0);
  CHECK(get(v, feature::user_count_24h) == 0);
  CHECK(std::isnan(get(v, feature::user_mean_30d)));
  CHECK(std::isnan(get(v, feature::amount_zscore_30d)));
  CHECK(std::isnan(get(v, feature::seconds_since_last)));
  CHECK(get(v, feature::is_new_merchant) == 1);
  CHECK(get(v, feature::is_new_country) == 1);
  CHECK(std::isnan(get(v, feature::country_share)));
  CHECK(get(v, feature::is_new_device) == 1);
  CHECK(std::isnan(get(v, feature::geo_speed_kmh)));
  CHECK(get(v, feature::merchant_count_24h) == 0);
  CHECK(std::isnan(get(v, feature::merchant_user_diversity)));
  CHECK(get(v, feature::merchant_fraud_rate_30d) == Approx(1.0 / 50));
}

TEST_CASE("user history features match a hand computation", "[unit][features]") {
  feature_store store;
  store.features(make_tx("u", "m1", "2024-03-04T10:00:00Z", 10.0), true);
  store.features(make_tx("u", "m1", "2024-03-04T10:30:00Z", 30.0), true);
  // Paris, half an hour after Berlin, new device, new merchant.
  auto v = store.features(make_tx("u", "m2", "2024-03-04T11:00:00Z", 100.0, "FR", 48.86, 2.35, "d-2"), false);
  // The 1h window at 11:00 spans the 5-minute buckets 10:05..11:05: 10:00 is out.
  CHECK(get(v, feature::user_count_1h) == 1);
  CHECK(get(v, feature::user_sum_1h) == 30.0f);
  CHECK(get(v, feature::user_count_10m) == 0);
  CHECK(get(v, feature::user_count_24h) == 2);
  CHECK(get(v, feature::user_count_7d) == 2);
  CHECK(get(v, feature::user_count_30d) == 2);
  CHECK(get(v, feature::user_sum_24h) == 40.0f);
  CHECK(get(v, feature::user_mean_7d) == 20.0f);
  CHECK(get(v, feature::user_mean_30d) == 20.0f);
  CHECK(get(v, feature::user_std_30d) == Approx(10.0));
  CHECK(get(v, feature::amount_zscore_30d) == Approx(8.0));  // (100 - 20) / 10
  CHECK(get(v, feature::amount_to_mean_30d) == Approx(5.0));
  CHECK(get(v, feature::amount_to_mean_7d) == Approx(5.0));
  CHECK(get(v, feature::seconds_since_last) == 1800.0f);
  CHECK(get(v, feature::user_small_count_1h) == 0);
  CHECK(get(v, feature::is_new_merchant) == 1);
  CHECK(get(v, feature::user_merchant_count) == 0);
  CHECK(get(v, feature::is_new_country) == 1);
  CHECK(get(v, feature::country_share) == 0.0f);
  CHECK(get(v, feature::is_new_device) == 1);
  CHECK(get(v, feature::distance_from_last_km) == Approx(877.09).margin(0.05));
  CHECK(get(v, feature::geo_speed_kmh) == Approx(877.09 * 2).margin(0.1));
}

TEST_CASE("a known merchant, country and device are not new", "[unit][features]") {
  feature_store store;
  store.features(make_tx("u", "m1", "2024-03-04T10:00:00Z", 10.0), true);
  auto v = store.features(make_tx("u", "m1", "2024-03-04T12:00:00Z", 10.0), false);
  CHECK(get(v, feature::is_new_merchant) == 0);
  CHECK(get(v, feature::user_merchant_count) == 1);
  CHECK(get(v, feature::is_new_country) == 0);
  CHECK(get(v, feature::country_share) == 1.0f);
  CHECK(get(v, feature::is_new_device) == 0);
  CHECK(get(v, feature::geo_speed_kmh) == 0.0f);
}

TEST_CASE("small amounts in the last hour are counted (card testing probes)", "[unit][features]") {
  feature_store store;
  for (const char* t : {"2024-03-04T10:00:00Z", "2024-03-04T10:01:00Z", "2024-03-04T10:02:00Z"})
    store.features(make_tx("u", "m1", t, 1.0), true);
  store.features(make_tx("u", "m1", "2024-03-04T10:03:00Z", 50.0), true);
  auto v = store.features(make_tx("u", "m1", "2024-03-04T10:04:00Z", 900.0), false);
  CHECK(get(v, feature::user_small_count_1h) == 3);
  CHECK(get(v, feature::user_count_10m) == 4);
  CHECK(get(v, feature::user_count_1h) == 4);
}

TEST_CASE("windows forget records older than their span", "[unit][features]") {
  feature_store store;
  store.features(make_tx("u", "m1", "2024-03-01T10:00:00Z", 10.0), true);
  auto v = store.features(make_tx("u", "m1", "2024-04-01T10:00:00Z", 10.0), false);
  CHECK(get(v, feature::user_count_30d) == 0);
  CHECK(get(v, feature::user_count_7d) == 0);
  CHECK(std::isnan(get(v, feature::user_mean_30d)));
  CHECK(get(v, feature::seconds_since_last) == 31.0f * 86400);
}

TEST_CASE("merchant features match a hand computation", "[unit][features]") {
  feature_store store;
  store.features(make_tx("a", "m1", "2024-03-04T10:00:00Z", 10.0), true);
  store.features(make_tx("a", "m1", "2024-03-04T10:30:00Z", 30.0), true);
  auto v = store.features(make_tx("b", "m1", "2024-03-04T11:00:00Z", 50.0), false);
  CHECK(get(v, feature::merchant_count_1h) == 1);
  CHECK(get(v, feature::merchant_count_24h) == 2);
  CHECK(get(v, feature::merchant_mean_24h) == 20.0f);
  CHECK(get(v, feature::merchant_mean_7d) == 20.0f);
  CHECK(get(v, feature::amount_to_merchant_mean_7d) == Approx(2.5));
  CHECK(get(v, feature::merchant_burst_ratio) == Approx(12.0));  // 1 / (2 / 24)
  CHECK(get(v, feature::merchant_user_diversity) == Approx(0.5)); // one user, two records
}

TEST_CASE("merchant fraud rate uses only labels that have arrived", "[unit][features]") {
  feature_store store;
  auto first = make_tx("a", "m1", "2024-03-04T10:00:00Z", 10.0);
  auto second = make_tx("b", "m1", "2024-03-04T10:30:00Z", 30.0);
  store.features(first, true);
  store.features(second, true);
  auto before = store.features(make_tx("c", "m1", "2024-03-05T10:00:00Z", 5.0), false);
  CHECK(get(before, feature::merchant_labelled_30d) == 0);
  store.apply_label("m1", first.event_time_ms, true);
  store.apply_label("m1", second.event_time_ms, false);
  auto after = store.features(make_tx("c", "m1", "2024-03-05T10:00:00Z", 5.0), false);
  CHECK(get(after, feature::merchant_labelled_30d) == 2);
  CHECK(get(after, feature::merchant_fraud_rate_30d) == Approx(2.0 / 52));
}

TEST_CASE("merchant risk over 7 and 30 days counts the known labels of the records in each", "[unit][features]") {
  feature_store store;
  auto old = make_tx("a", "m1", "2024-03-01T10:00:00Z", 10.0);     // 10 days before the probe
  auto recent = make_tx("b", "m1", "2024-03-08T10:00:00Z", 30.0);  // 3 days before
  auto recent_ok = make_tx("c", "m1", "2024-03-09T10:00:00Z", 30.0);
  for (const auto& tx : {old, recent, recent_ok})
    store.features(tx, true);
  store.apply_label("m1", old.event_time_ms, true);
  store.apply_label("m1", recent.event_time_ms, true);
  store.apply_label("m1", recent_ok.event_time_ms, false);
  auto v = store.features(make_tx("d", "m1", "2024-03-11T10:00:00Z", 5.0), false);
  CHECK(get(v, feature::merchant_frauds_30d) == 2);
  CHECK(get(v, feature::merchant_labelled_30d) == 3);
  CHECK(get(v, feature::merchant_frauds_7d) == 1);
  CHECK(get(v, feature::merchant_labelled_7d) == 2);
  CHECK(get(v, feature::merchant_fraud_rate_7d) == Approx(2.0 / 52));
  CHECK(get(v, feature::merchant_fraud_rate_30d) == Approx(3.0 / 53));
}

TEST_CASE("a user's own fraud, once known, counts for the user's later records", "[unit][features][labels]") {
  feature_store store;
  auto stolen = make_tx("a", "m1", "2024-03-01T10:00:00Z", 900.0);
  store.features(stolen, true);
  store.hold_label(stolen, at("2024-03-03T10:00:00Z"), true);  // a chargeback two days later
  auto before = store.features(make_tx("a", "m2", "2024-03-02T10:00:00Z", 20.0), true);
  CHECK(get(before, feature::user_frauds_30d) == 0);
  CHECK(get(before, feature::user_labelled_30d) == 0);
  auto after = store.features(make_tx("a", "m3", "2024-03-03T10:00:00Z", 20.0), true);
  CHECK(get(after, feature::user_frauds_30d) == 1);
  CHECK(get(after, feature::user_frauds_7d) == 1);
  CHECK(get(after, feature::user_labelled_30d) == 1);
  // Another card is not touched; a label applied at once (/feedback) counts at once.
  auto other = store.features(make_tx("b", "m1", "2024-03-03T11:00:00Z", 20.0), true);
  CHECK(get(other, feature::user_frauds_30d) == 0);
  store.apply_label("b", "m1", at("2024-03-03T11:00:00Z"), false);
  auto b_next = store.features(make_tx("b", "m1", "2024-03-03T12:00:00Z", 20.0), false);
  CHECK(get(b_next, feature::user_labelled_30d) == 1);
  CHECK(get(b_next, feature::user_frauds_30d) == 0);
  // Ten days on, the 7-day count has let it go, the 30-day one has not.
  auto later = store.features(make_tx("a", "m3", "2024-03-11T10:00:00Z", 20.0), false);
  CHECK(get(later, feature::user_frauds_7d) == 0);
  CHECK(get(later, feature::user_frauds_30d) == 1);
}

TEST_CASE("a record without country or category scores them as missing, not as new", "[unit][features]") {
  feature_store store;
  store.features(make_tx("a", "m1", "2024-03-04T10:00:00Z", 10.0), true);
  auto bare = make_tx("a", "m2", "2024-03-04T11:00:00Z", 10.0, "", std::nullopt, std::nullopt);
  bare.merchant_category.clear();
  auto v = store.features(bare, true);
  CHECK(std::isnan(get(v, feature::is_new_country)));
  CHECK(std::isnan(get(v, feature::country_share)));
  CHECK(std::isnan(get(v, feature::category_code)));
  CHECK(std::isnan(get(v, feature::distance_from_last_km)));
  CHECK(get(v, feature::is_new_merchant) == 1);
  // It left no empty country behind: the next German record is not new.
  auto next = store.features(make_tx("a", "m1", "2024-03-04T12:00:00Z", 10.0), false);
  CHECK(get(next, feature::is_new_country) == 0);
  CHECK(get(next, feature::country_share) == 1.0f);
}

TEST_CASE("a late record inside allowed lateness updates the windows", "[unit][features]") {
  feature_store store{10 * minute_ms};
  store.features(make_tx("u", "m1", "2024-03-04T10:20:00Z", 10.0), true);
  store.features(make_tx("u", "m1", "2024-03-04T10:15:00Z", 20.0), true);  // 5 min late
  CHECK(store.late_records() == 0);
  store.features(make_tx("u", "m1", "2024-03-04T10:05:00Z", 40.0), true);  // 15 min late
  CHECK(store.late_records() == 1);
  CHECK(store.users().at("u").late_records == 1);
  auto v = store.features(make_tx("u", "m1", "2024-03-04T10:21:00Z", 1.0), false);
  CHECK(get(v, feature::user_count_1h) == 2);
  CHECK(get(v, feature::user_sum_1h) == 30.0f);
  // The late record did not move "last": still 10:20.
  CHECK(get(v, feature::seconds_since_last) == 60.0f);
}

TEST_CASE("scoring without update leaves state untouched", "[unit][features]") {
  feature_store store;
  store.features(make_tx("u", "m1", "2024-03-04T10:00:00Z", 10.0), true);
  auto snapshot = store.users().at("u");
  store.features(make_tx("u", "m1", "2024-03-04T10:01:00Z", 10.0), false);
  CHECK(store.users().at("u") == snapshot);
  CHECK(store.merchants().count("m2") == 0);
}

TEST_CASE("the feature schema hash is stable and names every feature", "[unit][features]") {
  CHECK(feature_schema_hash().size() == 16);
  CHECK(feature_schema_hash() == feature_schema_hash());
  for (const char* name : feature_names())
    CHECK(std::string(name).size() > 0);
  CHECK(std::string(feature_names()[static_cast<int>(feature::geo_speed_kmh)]) == "geo_speed_kmh");
  CHECK(std::string(feature_names().back()) == "amount_to_mean_7d");
}

TEST_CASE("a merchant holds labels until their time, in order, and at most a bounded number",
          "[unit][features][labels]") {
  merchant_state s;
  const auto t0 = at("2024-03-01T00:00:00Z");
  hold_label(s, {t0 + 3 * hour_ms, t0, true});
  hold_label(s, {t0 + 1 * hour_ms, t0, false});
  hold_label(s, {t0 + 3 * hour_ms, t0, false});  // same instant: after the first one
  REQUIRE(s.pending_labels.size() == 3);
  CHECK(s.pending_labels[0].known_at_ms == t0 + hour_ms);
  CHECK(s.pending_labels[1].is_fraud);
  CHECK_FALSE(labels_due(s, t0 + hour_ms - 1));
  CHECK(labels_due(s, t0 + hour_ms));
  take_in_due_labels(s, t0 + 2 * hour_ms);
  CHECK(s.pending_labels.size() == 2);
  CHECK(s.labels_30d.totals(t0 + 2 * hour_ms).count == 1);
  take_in_due_labels(s, t0 + 3 * hour_ms);
  CHECK(s.pending_labels.empty());
  CHECK(s.labels_30d.totals(t0 + 3 * hour_ms).count == 3);
  CHECK(s.labels_30d.totals(t0 + 3 * hour_ms).marked == 1);
  // Past the bound the earliest known is taken in at once, and counted.
  for (std::size_t i = 0; i <= max_pending_labels; ++i)
    hold_label(s, {t0 + 10 * hour_ms + static_cast<std::int64_t>(i), t0, false});
  CHECK(s.pending_labels.size() == max_pending_labels);
  CHECK(s.labels_taken_early == 1);
  CHECK(s.pending_labels.front().known_at_ms == t0 + 10 * hour_ms + 1);
  // An expired merchant starts over but keeps what it still holds.
  restart_merchant_state(s);
  CHECK(s.labels_30d.totals(t0 + 3 * hour_ms).count == 0);
  CHECK(s.pending_labels.size() == max_pending_labels);
}
