#pragma once
// Generates a deterministic stream of labelled transactions: a legitimate
// population with daily rhythm and travel, plus four fraud patterns that are
// learnable from behaviour alone.

#include "pipeline/schema/transaction.h"
#include "pipeline/simulator/random_source.h"
#include "pipeline/simulator/world.h"

#include <array>
#include <map>
#include <queue>
#include <string>
#include <vector>

namespace vigil::pipeline {

/// Fraud patterns the simulator injects.
enum class fraud_pattern : int {
  account_takeover,
  card_testing,
  merchant_collusion,
  geo_anomaly,
  count_
};
constexpr int fraud_pattern_count = static_cast<int>(fraud_pattern::count_);
const char* to_string(fraud_pattern p);

struct simulator_options {
  std::uint64_t seed = 1;
  std::int64_t start_time_ms = 1'704'067'200'000;  ///< 2024-01-01T00:00:00Z
  int users = 0;            ///< 0: derived from the expected count
  std::int64_t expected_count = 100'000;  ///< sizes the population
  double fraud_scale = 1.0; ///< multiplies every pattern's episode rate
  double label_noise = 0.0; ///< probability a label is flipped
  double label_delay_min_hours = 24;
  double label_delay_max_hours = 168;
  /// Probability a label never arrives: the record is written unlabelled.
  /// Drawn from a stream of its own: the transactions do not change with it.
  double label_loss = 0.0;
};

/// Counts of what was generated so far.
struct simulator_stats {
  std::int64_t transactions = 0;
  std::int64_t fraud = 0;  ///< true fraud (before label noise)
  std::int64_t flipped_labels = 0;
  std::int64_t lost_labels = 0;
  std::array<std::int64_t, fraud_pattern_count> by_pattern{};
  std::array<std::int64_t, fraud_pattern_count> episodes{};
  double fraud_rate() const { return transactions ? double(fraud) / transactions : 0; }
};

class transaction_simulator {
 public:
  explicit transaction_simulator(const simulator_options& options);

  /// The next transaction in event-time order.
  labelled_transaction next();
  const simulator_stats& stats() const { return stats_; }
  const world& population() const { return world_; }

 private:
  struct pending {
    std::int64_t time_ms;
    std::uint64_t sequence;  ///< tie-break, keeps order deterministic
    transaction tx;
    int pattern;
    bool operator>(const pending& o) const {
      return time_ms != o.time_ms ? time_ms > o.time_ms : sequence > o.sequence;
    }
  };

  std::int64_t next_legit_time();
  transaction make_legit(int user_index, std::int64_t t);
  void maybe_start_episode(int user_index, std::int64_t t);
  void schedule(std::int64_t t, transaction tx, fraud_pattern p);
  transaction base_tx(const simulated_user& u, int merchant, std::int64_t t,
                      double amount, int country, double lat, double lon);
  void start_account_takeover(int victim, std::int64_t t);
  void start_card_testing(int victim, std::int64_t t);
  void start_collusion(std::int64_t t);
  void start_geo_anomaly(int victim, std::int64_t t);
  labelled_transaction finish(transaction tx, int pattern);

  simulator_options options_;
  random_source rng_;
  random_source label_loss_rng_;
  world world_;
  double legit_rate_per_ms_;
  std::int64_t clock_ms_;
  std::int64_t next_legit_ms_;
  std::uint64_t sequence_ = 0;
  std::priority_queue<pending, std::vector<pending>, std::greater<pending>> pending_;
  simulator_stats stats_;
};

} // namespace vigil::pipeline
