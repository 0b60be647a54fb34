#pragma once
// The simulated population: countries, users and merchants.

#include "pipeline/simulator/random_source.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::pipeline {

struct country_info {
  const char* code;
  const char* currency;
  double latitude, longitude;  ///< a populous point, degrees
};

/// The countries the simulator uses.
const std::vector<country_info>& simulated_countries();

struct simulated_user {
  std::string id;
  int home_country = 0;               ///< index into simulated_countries()
  double home_lat = 0, home_lon = 0;
  double spend_mu = 3.5, spend_sigma = 0.6;  ///< log-normal amount parameters
  double activity = 1.0;              ///< relative transaction rate
  int peak_hour = 13;                 ///< UTC hour of most activity
  std::vector<int> favourite_merchants;
  std::vector<std::string> devices;
  // Mutable trip state: while travelling, transactions happen abroad.
  int travel_country = -1;
  std::int64_t travel_until_ms = 0;
  std::int64_t last_time_ms = 0;
};

struct simulated_merchant {
  std::string id, name, category;
  double risk = 0.0;      ///< 0 (safe) .. 1 (risky); biases fraud toward it
  bool online = false;
  bool colluding = false; ///< belongs to a collusion ring: no legitimate traffic
};

struct collusion_ring {
  std::vector<int> users;      ///< indices into the user list
  std::vector<int> merchants;  ///< indices into the merchant list
};

/// Legitimate spend multiplier of a merchant category (grocery 0.9, travel 4).
double category_spend_scale(const std::string& category);

/// Builds a population deterministically from `rng`.
struct world {
  std::vector<simulated_user> users;
  std::vector<simulated_merchant> merchants;
  std::vector<collusion_ring> rings;
  std::vector<double> user_activity_cdf;  ///< for picking a user by activity
  int legit_users = 0;                    ///< users [0, legit_users) act legitimately

  static world build(random_source& rng, int user_count, int merchant_count,
                     int ring_count);
  /// Picks a legitimate user, weighted by activity.
  int pick_user(random_source& rng) const;
  /// Picks a merchant of one of `categories` (any when empty), not colluding.
  int pick_merchant(random_source& rng, const std::vector<std::string>& categories) const;
};

} // namespace vigil::pipeline
