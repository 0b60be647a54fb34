#pragma once
// Precision among the k most suspicious transactions, and among the k most
// suspicious cards, of each day: what a team that can review k alerts a day
// gets (the measures of the fraud-detection handbook's protocol).

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::models {

/// One scored, labelled transaction of a test window.
struct scored_row {
  std::int64_t event_time_ms = 0;
  std::string card;  ///< the card (Vigil's user_id)
  float score = 0;
  bool is_fraud = false;
};

struct day_precision {
  std::int64_t day_start_ms = 0;  ///< UTC midnight
  std::size_t transactions = 0;
  double precision_at_k = 0;       ///< frauds among the day's k highest scores / k
  double card_precision_at_k = 0;  ///< cards with a fraud that day among the k cards
                                   ///< with the highest score that day / k
};

/// Per UTC day, in day order. A day with fewer than k transactions (cards)
/// divides by k all the same: the team had k reviews and fewer to spend.
std::vector<day_precision> daily_precision_at_k(const std::vector<scored_row>& rows, std::size_t k);

/// Means over days (0 for none).
double mean_precision_at_k(const std::vector<day_precision>& days);
double mean_card_precision_at_k(const std::vector<day_precision>& days);

} // namespace vigil::models
