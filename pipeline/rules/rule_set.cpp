#include "pipeline/rules/rule_set.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>

namespace vigil::rules {
namespace {

std::optional<rule_action> action_of(const std::string& name) {
  if (name == "review")
    return rule_action::review;
  if (name == "decline")
    return rule_action::decline;
  if (name == "allow")
    return rule_action::allow;
  if (name == "adjust")
    return rule_action::adjust;
  return std::nullopt;
}

bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= max_rule_id_chars && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

} // namespace

const char* to_string(rule_action a) {
  switch (a) {
    case rule_action::review: return "review";
    case rule_action::decline: return "decline";
    case rule_action::allow: return "allow";
    case rule_action::adjust: return "adjust";
  }
  return "review";
}

bool operator==(const rule_definition& a, const rule_definition& b) {
  return a.id == b.id && a.when == b.when && a.action == b.action && a.score_delta == b.score_delta &&
         a.description == b.description;
}

std::vector<rule_problem> check_rules(const std::vector<rule_definition>& rules) {
  std::vector<rule_problem> out;
  if (rules.size() > max_rules) {
    out.push_back({max_rules, "", "at most " + std::to_string(max_rules) + " rules"});
    return out;
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    if (!valid_id(r.id))
      out.push_back({i, "id", "1 to " + std::to_string(max_rule_id_chars) +
                                " letters, digits, '-', '_' or '.'"});
    else if (!ids.insert(r.id).second)
      out.push_back({i, "id", "'" + r.id + "' is used by an earlier rule"});
    try {
      rule_expression::compile(r.when);
    } catch (const rule_syntax_error& e) {
      out.push_back({i, "when", "at character " + std::to_string(e.position()) + ": " + e.reason()});
    }
    auto action = action_of(r.action);
    if (!action)
      out.push_back({i, "action", "one of review, decline, allow, adjust"});
    if (!std::isfinite(r.score_delta) || r.score_delta < -1 || r.score_delta > 1)
      out.push_back({i, "score_delta", "must be in [-1, 1]"});
    else if (action == rule_action::adjust && r.score_delta == 0)
      out.push_back({i, "score_delta", "an adjust rule needs a score_delta other than 0"});
    else if (action && action != rule_action::adjust && r.score_delta != 0)
      out.push_back({i, "score_delta", "only adjust rules take a score_delta"});
    if (r.description.size() > max_description_chars)
      out.push_back({i, "description", "at most " + std::to_string(max_description_chars) + " characters"});
  }
  return out;
}

rule_set rule_set::compile(const std::vector<rule_definition>& rules) {
  auto problems = check_rules(rules);
  if (!problems.empty()) {
    const auto& p = problems.front();
    throw std::invalid_argument("rules[" + std::to_string(p.rule) + "]." + p.field + ": " + p.reason);
  }
  rule_set set;
  for (const auto& r : rules)
    set.rules_.push_back({rule_hit{r.id, *action_of(r.action), r.score_delta, r.description},
                          rule_expression::compile(r.when)});
  return set;
}

void rule_set::evaluate(const rule_input& in, std::vector<rule_hit>& hits) const {
  for (const auto& r : rules_)
    if (r.when.matches(in))
      hits.push_back(r.hit);
}

} // namespace vigil::rules
