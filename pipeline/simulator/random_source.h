#pragma once
// Deterministic random numbers: the same seed gives the same stream on every
// standard library (std:: distributions are implementation-defined).

#include <cmath>
#include <cstdint>
#include <random>

namespace vigil::pipeline {

class random_source {
 public:
  explicit random_source(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in [0, 1).
  double uniform() { return (engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi].
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(uniform() * double(hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  double normal(double mean, double stddev) {
    double u1 = uniform(), u2 = uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(1.0 - u1)) *
                    std::cos(2.0 * M_PI * u2);
  }
  double lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }
  /// Exponential with the given rate (events per unit).
  double exponential(double rate) { return -std::log(1.0 - uniform()) / rate; }

 private:
  std::mt19937_64 engine_;
};

} // namespace vigil::pipeline
