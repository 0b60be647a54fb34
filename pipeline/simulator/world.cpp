#include "pipeline/simulator/world.h"

#include "pipeline/features/feature_extractor.h"

#include <algorithm>

namespace vigil::pipeline {

const std::vector<country_info>& simulated_countries() {
  static const std::vector<country_info> countries = {
    {"US", "USD", 40.71, -74.00}, {"GB", "GBP", 51.51, -0.13},
    {"DE", "EUR", 52.52, 13.40},  {"FR", "EUR", 48.86, 2.35},
    {"ES", "EUR", 40.42, -3.70},  {"IT", "EUR", 41.90, 12.50},
    {"NL", "EUR", 52.37, 4.90},   {"PL", "PLN", 52.23, 21.01},
    {"CA", "CAD", 43.65, -79.38}, {"MX", "MXN", 19.43, -99.13},
    {"BR", "BRL", -23.55, -46.63},{"JP", "JPY", 35.68, 139.69},
    {"IN", "INR", 19.08, 72.88},  {"AU", "AUD", -33.87, 151.21},
    {"NG", "NGN", 6.52, 3.38},    {"RU", "RUB", 55.76, 37.62},
    {"CN", "CNY", 31.23, 121.47}, {"ZA", "ZAR", -26.20, 28.05},
    {"SG", "SGD", 1.35, 103.82},  {"AE", "AED", 25.20, 55.27}};
  return countries;
}

double category_spend_scale(const std::string& c) {
  if (c == "travel" || c == "jewelry") return 4.0;
  if (c == "electronics") return 3.0;
  if (c == "money_transfer") return 2.5;
  if (c == "fuel" || c == "restaurant") return 0.8;
  if (c == "grocery") return 0.9;
  return 1.0;
}

world world::build(random_source& rng, int user_count, int merchant_count,
                   int ring_count) {
  world w;
  const auto& categories = known_categories();
  const auto& countries = simulated_countries();
  // Most users live in the first eight (Western) countries.
  for (int i = 0; i < merchant_count; ++i) {
    simulated_merchant m;
    m.id = "m-" + std::to_string(i);
    m.category = categories[rng.integer(0, static_cast<std::int64_t>(categories.size()) - 1)];
    m.name = m.category + " shop " + std::to_string(i);
    m.online = m.category == "digital_goods" || m.category == "gift_cards" || rng.chance(0.3);
    m.risk = rng.uniform() * rng.uniform();
    w.merchants.push_back(std::move(m));
  }
  for (int i = 0; i < user_count; ++i) {
    simulated_user u;
    u.id = "u-" + std::to_string(i);
    u.home_country = rng.chance(0.85) ? static_cast<int>(rng.integer(0, 7))
                                      : static_cast<int>(rng.integer(0, static_cast<std::int64_t>(countries.size()) - 1));
    u.home_lat = countries[u.home_country].latitude + rng.uniform(-1.5, 1.5);
    u.home_lon = countries[u.home_country].longitude + rng.uniform(-1.5, 1.5);
    // 6% are micro-spenders (coffee, transit): many small amounts, a
    // legitimate look-alike of card testing.
    bool micro = rng.chance(0.06);
    u.spend_mu = micro ? rng.normal(1.2, 0.3) : rng.normal(3.4, 0.5);
    u.spend_sigma = rng.uniform(0.3, 0.8);
    u.activity = rng.lognormal(0, 0.7) * (micro ? 4.0 : 1.0);
    u.peak_hour = static_cast<int>(rng.integer(10, 20));
    int favourites = static_cast<int>(rng.integer(3, 8));
    for (int f = 0; f < favourites; ++f) {
      // A tenth of the merchants are local shops with a small loyal
      // clientele: low user diversity without any collusion.
      bool local = rng.chance(0.3);
      int pool = local ? std::max(1, merchant_count / 10) : merchant_count;
      u.favourite_merchants.push_back(static_cast<int>(rng.integer(0, pool - 1)));
    }
    int devices = static_cast<int>(rng.integer(1, 2));
    for (int d = 0; d < devices; ++d)
      u.devices.push_back("d-" + std::to_string(i) + "-" + std::to_string(d));
    w.users.push_back(std::move(u));
  }
  w.legit_users = user_count;
  static const std::vector<std::string> ring_categories = {"electronics", "jewelry", "money_transfer"};
  for (int r = 0; r < ring_count; ++r) {
    collusion_ring ring;
    for (int k = 0; k < 3; ++k) {
      simulated_merchant m;
      m.id = "m-ring-" + std::to_string(r) + "-" + std::to_string(k);
      m.category = ring_categories[k % ring_categories.size()];
      m.name = m.category + " outlet " + std::to_string(r) + "-" + std::to_string(k);
      m.colluding = true;
      m.risk = 1.0;
      ring.merchants.push_back(static_cast<int>(w.merchants.size()));
      w.merchants.push_back(std::move(m));
    }
    int members = static_cast<int>(rng.integer(8, 15));
    for (int k = 0; k < members; ++k) {
      simulated_user u;
      u.id = "u-ring-" + std::to_string(r) + "-" + std::to_string(k);
      u.home_country = static_cast<int>(rng.integer(0, 7));
      u.home_lat = countries[u.home_country].latitude + rng.uniform(-1.5, 1.5);
      u.home_lon = countries[u.home_country].longitude + rng.uniform(-1.5, 1.5);
      u.devices.push_back("d-ring-" + std::to_string(r) + "-" + std::to_string(k));
      ring.users.push_back(static_cast<int>(w.users.size()));
      w.users.push_back(std::move(u));
    }
    w.rings.push_back(std::move(ring));
  }
  double acc = 0;
  for (int i = 0; i < w.legit_users; ++i) {
    acc += w.users[i].activity;
    w.user_activity_cdf.push_back(acc);
  }
  return w;
}

int world::pick_user(random_source& rng) const {
  double x = rng.uniform() * user_activity_cdf.back();
  auto it = std::upper_bound(user_activity_cdf.begin(), user_activity_cdf.end(), x);
  return static_cast<int>(std::min<std::ptrdiff_t>(it - user_activity_cdf.begin(), legit_users - 1));
}

int world::pick_merchant(random_source& rng, const std::vector<std::string>& categories) const {
  // Rejection sampling; merchants are plentiful in every category.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int i = static_cast<int>(rng.integer(0, static_cast<std::int64_t>(merchants.size()) - 1));
    const auto& m = merchants[i];
    if (m.colluding)
      continue;
    if (categories.empty() ||
        std::find(categories.begin(), categories.end(), m.category) != categories.end())
      return i;
  }
  return 0;
}

} // namespace vigil::pipeline
