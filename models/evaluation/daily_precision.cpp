#include "models/evaluation/daily_precision.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace vigil::models {
namespace {

constexpr std::int64_t day_ms = 86'400'000;

std::int64_t day_of(std::int64_t t_ms) {
  std::int64_t d = t_ms / day_ms;
  return (t_ms % day_ms != 0 && t_ms < 0) ? d - 1 : d;
}

/// Positives among the k highest scores, divided by k. Among equal scores
/// negatives rank first: a tie never flatters the model.
double precision_of_top(std::vector<std::pair<float, bool>> scored, std::size_t k) {
  auto top = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(top), scored.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  std::size_t hits = 0;
  for (std::size_t i = 0; i < top; ++i)
    hits += scored[i].second ? 1 : 0;
  return k ? double(hits) / double(k) : 0.0;
}

} // namespace

std::vector<day_precision> daily_precision_at_k(const std::vector<scored_row>& rows, std::size_t k) {
  std::map<std::int64_t, std::vector<const scored_row*>> by_day;
  for (const auto& r : rows)
    by_day[day_of(r.event_time_ms)].push_back(&r);
  std::vector<day_precision> out;
  for (const auto& [day, day_rows] : by_day) {
    std::vector<std::pair<float, bool>> transactions;
    std::unordered_map<std::string, std::pair<float, bool>> cards;  // max score, any fraud
    for (const auto* r : day_rows) {
      transactions.emplace_back(r->score, r->is_fraud);
      auto [it, fresh] = cards.try_emplace(r->card, r->score, r->is_fraud);
      if (!fresh) {
        it->second.first = std::max(it->second.first, r->score);
        it->second.second = it->second.second || r->is_fraud;
      }
    }
    std::vector<std::pair<float, bool>> card_scores;
    card_scores.reserve(cards.size());
    for (const auto& [card, v] : cards)
      card_scores.push_back(v);
    day_precision d;
    d.day_start_ms = day * day_ms;
    d.transactions = day_rows.size();
    d.precision_at_k = precision_of_top(std::move(transactions), k);
    d.card_precision_at_k = precision_of_top(std::move(card_scores), k);
    out.push_back(d);
  }
  return out;
}

double mean_precision_at_k(const std::vector<day_precision>& days) {
  double sum = 0;
  for (const auto& d : days)
    sum += d.precision_at_k;
  return days.empty() ? 0.0 : sum / double(days.size());
}

double mean_card_precision_at_k(const std::vector<day_precision>& days) {
  double sum = 0;
  for (const auto& d : days)
    sum += d.card_precision_at_k;
  return days.empty() ? 0.0 : sum / double(days.size());
}

} // namespace vigil::models
