#pragma once
// Rules beside the model: the fraud team's deny lists, limits and blocks,
// part of the versioned config (field `rules`), compiled once per config
// version and evaluated in the scorer after the model, on the stream and on
// /predict alike. Plain C++.
//
// Each rule: an id, a `when` expression (rule_expression.h), an action, and
// a description. How hits combine with the model's score (see
// models::apply_rules): the score used for the thresholds is the model's
// probability plus every `adjust` hit's score_delta (clamped to [0, 1]);
// then a `decline` hit declines, else an `allow` hit approves, else a
// `review` hit makes an approve a review. Every hit is a reason of the
// decision.

#include "pipeline/rules/rule_expression.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::rules {

/// At most this many rules in a config.
constexpr std::size_t max_rules = 500;
constexpr std::size_t max_rule_id_chars = 64;
constexpr std::size_t max_description_chars = 512;

enum class rule_action { review, decline, allow, adjust };
const char* to_string(rule_action a);

/// A rule as the config holds it (JSON field names equal the member names).
struct rule_definition {
  std::string id;           ///< unique in the set: letters, digits, '-', '_', '.'
  std::string when;         ///< the expression
  std::string action;       ///< "review", "decline", "allow" or "adjust"
  double score_delta = 0;   ///< for "adjust": added to the score, in [-1, 1]
  std::string description;  ///< shown with each hit
};

bool operator==(const rule_definition& a, const rule_definition& b);

/// One refusal: which rule (index in the list), which of its fields
/// ("id", "when", "action", "score_delta", "description"), and why; for
/// "when", the character position in the expression.
struct rule_problem {
  std::size_t rule = 0;
  std::string field;
  std::string reason;
};

/// Every problem of the list (empty = it compiles).
std::vector<rule_problem> check_rules(const std::vector<rule_definition>& rules);

/// A rule that fired, as a decision carries it.
struct rule_hit {
  std::string id;
  rule_action action = rule_action::review;
  double score_delta = 0;
  std::string description;
};

/// A compiled rule list. Copies share the compiled rules.
class rule_set {
 public:
  rule_set() = default;
  /// Throws std::invalid_argument naming the first problem (check_rules
  /// first for all of them).
  static rule_set compile(const std::vector<rule_definition>& rules);

  bool empty() const { return rules_.empty(); }
  std::size_t size() const { return rules_.size(); }
  /// The rules that match, in list order, appended to `hits`.
  void evaluate(const rule_input& in, std::vector<rule_hit>& hits) const;

 private:
  struct compiled {
    rule_hit hit;
    rule_expression when;
  };
  std::vector<compiled> rules_;
};

} // namespace vigil::rules
