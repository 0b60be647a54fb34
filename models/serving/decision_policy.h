#pragma once
// Turns a probability into approve / review / decline.

namespace vigil::models {

enum class decision_kind { approve, review, decline };

inline const char* to_string(decision_kind d) {
  switch (d) {
    case decision_kind::approve: return "approve";
    case decision_kind::review: return "review";
    case decision_kind::decline: return "decline";
  }
  return "approve";
}

/// Probabilities at or above `review` are reviewed, at or above `decline`
/// declined. Both in [0, 1], review <= decline (config validation enforces it).
struct decision_thresholds {
  double review = 0.5;
  double decline = 0.9;
};

inline decision_kind decide(double probability, const decision_thresholds& t) {
  if (probability >= t.decline)
    return decision_kind::decline;
  if (probability >= t.review)
    return decision_kind::review;
  return decision_kind::approve;
}

} // namespace vigil::models
