#include "pipeline/simulator/transaction_simulator.h"

#include "pipeline/features/bucketed_window.h"
#include "pipeline/features/feature_extractor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vigil::pipeline {
namespace {

constexpr double legit_per_user_per_day = 2.0;
// Episode probabilities per legitimate transaction, before fraud_scale. With
// the mean episode lengths (ATO ~5, card testing ~11, collusion ~2, geo ~2)
// they give a fraud rate near 1.5%.
constexpr double ato_episode_p = 0.0008;
constexpr double card_testing_episode_p = 0.00045;
constexpr double collusion_episode_p = 0.0015;
constexpr double geo_episode_p = 0.0015;

double round_cents(double x) { return std::round(x * 100.0) / 100.0; }

// Relative activity at a UTC hour for a user peaking at `peak` (0.1 .. 1).
double rhythm(int hour, int peak) {
  int d = std::abs(hour - peak);
  d = std::min(d, 24 - d);
  return 0.1 + 0.9 * std::exp(-(d * d) / (2.0 * 16.0));
}

int hour_of(std::int64_t t_ms) { return static_cast<int>((t_ms / hour_ms) % 24); }

} // namespace

const char* to_string(fraud_pattern p) {
  switch (p) {
    case fraud_pattern::account_takeover: return "account_takeover";
    case fraud_pattern::card_testing: return "card_testing";
    case fraud_pattern::merchant_collusion: return "merchant_collusion";
    case fraud_pattern::geo_anomaly: return "geo_anomaly";
    default: return "";
  }
}

transaction_simulator::transaction_simulator(const simulator_options& options)
  : options_(options), rng_(options.seed), label_loss_rng_(options.seed ^ 0x9e3779b97f4a7c15ULL) {
  int users = options.users > 0
                ? options.users
                : static_cast<int>(std::clamp<std::int64_t>(options.expected_count / 100, 50, 200'000));
  int merchants = std::max(40, users / 10);
  int rings = std::max(1, users / 2000);
  world_ = world::build(rng_, users, merchants, rings);
  double total_activity = world_.user_activity_cdf.back();
  // Candidates arrive at the peak rate; rhythm() thins them (mean ~0.45).
  legit_rate_per_ms_ = total_activity * legit_per_user_per_day / day_ms / 0.45;
  clock_ms_ = options.start_time_ms;
  next_legit_ms_ = next_legit_time();
}

std::int64_t transaction_simulator::next_legit_time() {
  clock_ms_ += std::max<std::int64_t>(1, std::llround(rng_.exponential(legit_rate_per_ms_)));
  return clock_ms_;
}

transaction transaction_simulator::base_tx(const simulated_user& u, int merchant,
                                           std::int64_t t, double amount,
                                           int country, double lat, double lon) {
  const auto& m = world_.merchants[merchant];
  const auto& c = simulated_countries()[country];
  transaction tx;
  tx.user_id = u.id;
  tx.amount = round_cents(std::max(0.01, amount));
  tx.currency = c.currency;
  tx.merchant_id = m.id;
  tx.merchant_name = m.name;
  tx.merchant_category = m.category;
  tx.event_time_ms = t;
  tx.country = c.code;
  tx.latitude = std::round(lat * 1e4) / 1e4;
  tx.longitude = std::round(lon * 1e4) / 1e4;
  tx.channel = m.online ? (rng_.chance(0.5) ? "online" : "mobile") : "pos";
  return tx;
}

transaction transaction_simulator::make_legit(int user_index, std::int64_t t) {
  auto& u = world_.users[user_index];
  const auto& countries = simulated_countries();
  if (u.travel_country >= 0 && t > u.travel_until_ms)
    u.travel_country = -1;
  // Trips start after at least a flight's worth of quiet (2 h), so travel
  // speed stays physically possible, though often airliner-fast.
  if (u.travel_country < 0 && t - u.last_time_ms > 2 * hour_ms && rng_.chance(0.004)) {
    int c = static_cast<int>(rng_.integer(0, static_cast<std::int64_t>(countries.size()) - 1));
    if (c != u.home_country) {
      u.travel_country = c;
      u.travel_until_ms = t + static_cast<std::int64_t>(rng_.uniform(2, 10) * day_ms);
    }
  }
  bool travelling = u.travel_country >= 0;
  int country = travelling ? u.travel_country : u.home_country;
  double lat = travelling ? countries[country].latitude : u.home_lat;
  double lon = travelling ? countries[country].longitude : u.home_lon;
  // Around town (~15 km), now and then a regional trip (~100 km).
  double spread = rng_.chance(0.05) ? 1.0 : 0.15;
  lat += rng_.normal(0, spread);
  lon += rng_.normal(0, spread);
  int merchant = (!travelling && rng_.chance(0.75))
                   ? u.favourite_merchants[rng_.integer(0, static_cast<std::int64_t>(u.favourite_merchants.size()) - 1)]
                   : world_.pick_merchant(rng_, {});
  double amount = rng_.lognormal(u.spend_mu, u.spend_sigma) *
                  category_spend_scale(world_.merchants[merchant].category);
  if (rng_.chance(0.01))
    amount *= rng_.uniform(3, 8);  // an honest big purchase
  transaction tx = base_tx(u, merchant, t, amount, country, lat, lon);
  if (tx.channel != "pos" && rng_.chance(0.03)) {
    // Cross-border e-commerce: the location is the merchant's (geo-IP of
    // the acquirer), far from the card holder. A legitimate geo jump.
    int abroad = static_cast<int>(rng_.integer(0, static_cast<std::int64_t>(countries.size()) - 1));
    tx.country = countries[abroad].code;
    tx.latitude = countries[abroad].latitude;
    tx.longitude = countries[abroad].longitude;
  }
  if (tx.channel != "pos") {
    if (rng_.chance(0.01))
      u.devices.push_back(u.id + "-d" + std::to_string(u.devices.size()));
    tx.device_id = rng_.chance(0.9) ? u.devices.back()
                                    : u.devices[rng_.integer(0, static_cast<std::int64_t>(u.devices.size()) - 1)];
  }
  u.last_time_ms = t;
  return tx;
}

void transaction_simulator::schedule(std::int64_t t, transaction tx, fraud_pattern p) {
  pending_.push(pending{t, sequence_++, std::move(tx), static_cast<int>(p)});
}

void transaction_simulator::maybe_start_episode(int user_index, std::int64_t t) {
  double s = options_.fraud_scale;
  if (rng_.chance(ato_episode_p * s))
    start_account_takeover(user_index, t);
  if (rng_.chance(card_testing_episode_p * s))
    start_card_testing(user_index, t);
  if (rng_.chance(geo_episode_p * s))
    start_geo_anomaly(user_index, t);
  if (rng_.chance(collusion_episode_p * s))
    start_collusion(t);
}

void transaction_simulator::start_account_takeover(int victim, std::int64_t t) {
  const auto& u = world_.users[victim];
  const auto& countries = simulated_countries();
  // 40% take over the victim's own device (malware, remote access) at home:
  // only the spend pattern gives them away.
  bool own_device = rng_.chance(0.4);
  int country = (own_device || rng_.chance(0.5))
                  ? u.home_country
                  : static_cast<int>(rng_.integer(8, static_cast<std::int64_t>(countries.size()) - 1));
  std::string device = own_device ? u.devices.front() : "d-ato-" + std::to_string(sequence_);
  std::int64_t at = t + static_cast<std::int64_t>(rng_.uniform(10 * minute_ms, 48 * hour_ms));
  int n = static_cast<int>(rng_.integer(2, 6));
  static const std::vector<std::string> targets = {"electronics", "gift_cards", "digital_goods", "jewelry"};
  bool at_home = country == u.home_country;
  double lat = (at_home ? u.home_lat : countries[country].latitude) + rng_.normal(0, at_home ? 0.15 : 1.0);
  double lon = (at_home ? u.home_lon : countries[country].longitude) + rng_.normal(0, at_home ? 0.15 : 1.0);
  for (int i = 0; i < n; ++i) {
    at += static_cast<std::int64_t>(rng_.uniform(2 * minute_ms, 30 * minute_ms));
    double amount = std::exp(u.spend_mu) * rng_.uniform(1.5, 8);
    auto categories = rng_.chance(0.5) ? targets : std::vector<std::string>{};
    transaction tx = base_tx(u, world_.pick_merchant(rng_, categories), at, amount, country, lat, lon);
    tx.channel = rng_.chance(0.5) ? "online" : "mobile";
    tx.device_id = device;
    schedule(at, std::move(tx), fraud_pattern::account_takeover);
  }
  ++stats_.episodes[static_cast<int>(fraud_pattern::account_takeover)];
}

void transaction_simulator::start_card_testing(int victim, std::int64_t t) {
  const auto& u = world_.users[victim];
  const auto& countries = simulated_countries();
  std::string device = rng_.chance(0.3) ? "" : "d-ct-" + std::to_string(sequence_);
  int country = rng_.chance(0.7) ? u.home_country
                                 : static_cast<int>(rng_.integer(0, static_cast<std::int64_t>(countries.size()) - 1));
  bool at_home = country == u.home_country;
  double lat = (at_home ? u.home_lat : countries[country].latitude) + rng_.normal(0, at_home ? 0.15 : 1.0);
  double lon = (at_home ? u.home_lon : countries[country].longitude) + rng_.normal(0, at_home ? 0.15 : 1.0);
  std::int64_t at = t + static_cast<std::int64_t>(rng_.uniform(hour_ms, 72 * hour_ms));
  static const std::vector<std::string> probes = {"digital_goods", "gift_cards"};
  static const std::vector<std::string> cash_out = {"electronics", "gift_cards", "jewelry"};
  int tests = static_cast<int>(rng_.integer(5, 15));
  for (int i = 0; i < tests; ++i) {
    at += static_cast<std::int64_t>(rng_.uniform(10'000, 90'000));
    transaction tx = base_tx(u, world_.pick_merchant(rng_, probes), at, rng_.uniform(0.5, 5.0), country, lat, lon);
    tx.channel = "online";
    tx.device_id = device;
    schedule(at, std::move(tx), fraud_pattern::card_testing);
  }
  int big = static_cast<int>(rng_.integer(1, 2));
  for (int i = 0; i < big; ++i) {
    at += static_cast<std::int64_t>(rng_.uniform(2 * minute_ms, 30 * minute_ms));
    transaction tx = base_tx(u, world_.pick_merchant(rng_, cash_out), at, rng_.uniform(80, 1200), country, lat, lon);
    tx.channel = "online";
    tx.device_id = device;
    schedule(at, std::move(tx), fraud_pattern::card_testing);
  }
  ++stats_.episodes[static_cast<int>(fraud_pattern::card_testing)];
}

void transaction_simulator::start_collusion(std::int64_t t) {
  if (world_.rings.empty())
    return;
  const auto& ring = world_.rings[rng_.integer(0, static_cast<std::int64_t>(world_.rings.size()) - 1)];
  auto& u = world_.users[ring.users[rng_.integer(0, static_cast<std::int64_t>(ring.users.size()) - 1)]];
  std::int64_t at = t + static_cast<std::int64_t>(rng_.uniform(0, 2 * hour_ms));
  int n = static_cast<int>(rng_.integer(1, 3));
  for (int i = 0; i < n; ++i) {
    at += static_cast<std::int64_t>(rng_.uniform(10 * minute_ms, 3 * hour_ms));
    int merchant = ring.merchants[rng_.integer(0, static_cast<std::int64_t>(ring.merchants.size()) - 1)];
    // Inflated but plausible tickets for the category: the merchant's mean
    // alone does not give the ring away.
    double amount = rng_.lognormal(3.4, 0.5) *
                    category_spend_scale(world_.merchants[merchant].category) * rng_.uniform(1, 3);
    transaction tx = base_tx(u, merchant, at, amount, u.home_country,
                             u.home_lat + rng_.normal(0, 0.15), u.home_lon + rng_.normal(0, 0.15));
    tx.channel = "pos";
    schedule(at, std::move(tx), fraud_pattern::merchant_collusion);
  }
  ++stats_.episodes[static_cast<int>(fraud_pattern::merchant_collusion)];
}

void transaction_simulator::start_geo_anomaly(int victim, std::int64_t t) {
  const auto& u = world_.users[victim];
  const auto& countries = simulated_countries();
  // A cloned card used far away minutes after the holder used it at home.
  // 40% are "nearly possible": a neighbouring country a couple of hours
  // later, as fast as a flight. The rest are plainly impossible.
  bool near = rng_.chance(0.4);
  double min_km = near ? 300 : 2500, max_km = near ? 1500 : 1e9;
  int country = u.home_country;
  for (int attempt = 0; attempt < 50; ++attempt) {
    int c = static_cast<int>(rng_.integer(0, static_cast<std::int64_t>(countries.size()) - 1));
    double km = haversine_km(u.home_lat, u.home_lon, countries[c].latitude, countries[c].longitude);
    if (c != u.home_country && km > min_km && km < max_km) {
      country = c;
      break;
    }
  }
  if (country == u.home_country)
    return;
  static const std::vector<std::string> targets = {"retail", "electronics", "jewelry", "restaurant", "fuel"};
  std::int64_t at = t + static_cast<std::int64_t>(near ? rng_.uniform(60 * minute_ms, 180 * minute_ms)
                                                       : rng_.uniform(2 * minute_ms, 45 * minute_ms));
  int n = static_cast<int>(rng_.integer(1, 3));
  for (int i = 0; i < n; ++i) {
    transaction tx = base_tx(u, world_.pick_merchant(rng_, targets), at,
                             std::exp(u.spend_mu) * rng_.uniform(1.5, 5), country,
                             countries[country].latitude + rng_.uniform(-0.3, 0.3),
                             countries[country].longitude + rng_.uniform(-0.3, 0.3));
    tx.channel = "pos";
    schedule(at, std::move(tx), fraud_pattern::geo_anomaly);
    at += static_cast<std::int64_t>(rng_.uniform(5 * minute_ms, 60 * minute_ms));
  }
  ++stats_.episodes[static_cast<int>(fraud_pattern::geo_anomaly)];
}

labelled_transaction transaction_simulator::finish(transaction tx, int pattern) {
  char id[32];
  std::snprintf(id, sizeof id, "tx-%010lld", static_cast<long long>(stats_.transactions));
  tx.transaction_id = id;
  ++stats_.transactions;
  bool fraud = pattern >= 0;
  if (fraud) {
    ++stats_.fraud;
    ++stats_.by_pattern[pattern];
  }
  transaction_label label;
  label.pattern = fraud ? to_string(static_cast<fraud_pattern>(pattern)) : "";
  label.is_fraud = fraud;
  if (options_.label_noise > 0 && rng_.chance(options_.label_noise)) {
    label.is_fraud = !fraud;
    ++stats_.flipped_labels;
  }
  double delay_h = rng_.uniform(options_.label_delay_min_hours, options_.label_delay_max_hours);
  label.label_time_ms = tx.event_time_ms + static_cast<std::int64_t>(delay_h * hour_ms);
  if (options_.label_loss > 0 && label_loss_rng_.chance(options_.label_loss)) {
    ++stats_.lost_labels;
    return labelled_transaction{std::move(tx), std::nullopt};
  }
  return labelled_transaction{std::move(tx), label};
}

labelled_transaction transaction_simulator::next() {
  for (;;) {
    if (!pending_.empty() && pending_.top().time_ms <= next_legit_ms_) {
      pending p = pending_.top();
      pending_.pop();
      return finish(std::move(p.tx), p.pattern);
    }
    std::int64_t t = next_legit_ms_;
    next_legit_ms_ = next_legit_time();
    int user = world_.pick_user(rng_);
    if (!rng_.chance(rhythm(hour_of(t), world_.users[user].peak_hour)))
      continue;
    transaction tx = make_legit(user, t);
    maybe_start_episode(user, t);
    return finish(std::move(tx), -1);
  }
}

} // namespace vigil::pipeline
