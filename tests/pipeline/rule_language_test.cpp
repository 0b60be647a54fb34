// The rule language: parsing, type checks, refusals with position and
// reason, evaluation (missing values never fire a comparison), and a
// property test against a direct evaluation over random inputs.

#include "pipeline/rules/rule_set.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace vigil;
using rules::rule_expression;

namespace {

int index_of(const char* feature) {
  const auto& names = pipeline::feature_names();
  for (int i = 0; i < pipeline::feature_count; ++i)
    if (std::string(names[static_cast<std::size_t>(i)]) == feature)
      return i;
  throw std::logic_error(feature);
}

struct scored {
  pipeline::transaction tx;
  pipeline::feature_vector features{};
  double score = 0;

  scored() {
    tx.user_id = "u-1";
    tx.merchant_id = "m-7";
    tx.amount = 250;
    tx.currency = "EUR";
    tx.country = "NL";
    tx.channel = "online";
    features.fill(0);
  }
  bool matches(const std::string& rule) const {
    return rule_expression::compile(rule).matches(rules::rule_input{tx, features, score});
  }
};

std::size_t refusal_position(const std::string& rule) {
  try {
    rule_expression::compile(rule);
  } catch (const rules::rule_syntax_error& e) {
    return e.position();
  }
  FAIL("compiled: " << rule);
  return 0;
}

std::string refusal_reason(const std::string& rule) {
  try {
    rule_expression::compile(rule);
  } catch (const rules::rule_syntax_error& e) {
    return e.reason();
  }
  FAIL("compiled: " << rule);
  return "";
}

} // namespace

TEST_CASE("rule language: comparisons, logic, lists, arithmetic and functions evaluate as written",
          "[unit][rules]") {
  scored s;
  s.features[static_cast<std::size_t>(index_of("user_count_1h"))] = 12;
  s.features[static_cast<std::size_t>(index_of("amount_zscore_30d"))] = -4.5f;
  s.score = 0.42;

  CHECK(s.matches("tx.amount > 200"));
  CHECK_FALSE(s.matches("tx.amount > 250"));
  CHECK(s.matches("tx.amount >= 250 and tx.amount <= 250"));
  CHECK(s.matches("user_count_1h == 12 and not (user_count_1h != 12)"));
  CHECK(s.matches("tx.country in ['NL', 'BE'] and tx.country not in [\"DE\"]"));
  CHECK_FALSE(s.matches("tx.country in ['DE']"));
  CHECK(s.matches("user_count_1h in [1, 12, 40]"));
  CHECK(s.matches("user_count_1h not in [-3, 13]"));
  CHECK(s.matches("tx.amount * 2 - 100 == 400 and tx.amount / 4 == 62.5"));
  CHECK(s.matches("1 + 2 * 3 == 7 and (1 + 2) * 3 == 9 and -2 * -2 == 4"));
  CHECK(s.matches("abs(amount_zscore_30d) > 4 and sqrt(16) == 4 and log1p(0) == 0"));
  CHECK(s.matches("min(tx.amount, 100, user_count_1h) == 12 and max(1, score) == 1"));
  CHECK(s.matches("score > 0.4 and score < 0.5"));
  CHECK(s.matches("tx.channel == 'online' or tx.channel == 'atm'"));
  CHECK(s.matches("false or true and true"));  // and binds tighter than or
  CHECK_FALSE(s.matches("(false or true) and false"));
  CHECK(s.matches("tx.merchant_category == '' and missing(tx.merchant_category)"));
  CHECK(s.matches("tx.amount>1e2"));
}

TEST_CASE("rule language: a missing feature never fires a comparison, missing() sees it", "[unit][rules]") {
  scored s;
  auto geo = static_cast<std::size_t>(index_of("geo_speed_kmh"));
  s.features[geo] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(s.matches("geo_speed_kmh > 900"));
  CHECK_FALSE(s.matches("geo_speed_kmh <= 900"));
  CHECK_FALSE(s.matches("geo_speed_kmh != 5"));
  CHECK_FALSE(s.matches("geo_speed_kmh in [0, 1]"));
  CHECK_FALSE(s.matches("geo_speed_kmh not in [0, 1]"));
  CHECK_FALSE(s.matches("max(geo_speed_kmh, 1) > 0"));
  CHECK(s.matches("missing(geo_speed_kmh)"));
  CHECK(s.matches("missing(geo_speed_kmh + 1)"));
  s.features[geo] = 1000;
  CHECK(s.matches("geo_speed_kmh > 900"));
  CHECK_FALSE(s.matches("missing(geo_speed_kmh)"));
}

TEST_CASE("rule language: malformed rules are refused with the position and the reason", "[unit][rules]") {
  CHECK(refusal_position("tx.amount >") == 11);
  CHECK_THAT(refusal_reason("tx.amount >"), Catch::Contains("expected a value"));
  CHECK(refusal_position("tx.amount > 5 5") == 14);
  CHECK(refusal_position("amount_zscore > 3") == 0);
  CHECK_THAT(refusal_reason("amount_zscore > 3"), Catch::Contains("unknown name 'amount_zscore'"));
  CHECK(refusal_position("tx.country > 'NL'") == 11);
  CHECK_THAT(refusal_reason("tx.country > 'NL'"), Catch::Contains("does not order texts"));
  CHECK_THAT(refusal_reason("tx.country == 3"), Catch::Contains("compares a text with a number"));
  CHECK_THAT(refusal_reason("tx.amount"), Catch::Contains("a rule needs a boolean"));
  CHECK_THAT(refusal_reason("tx.amount + 1"), Catch::Contains("needs a boolean"));
  CHECK_THAT(refusal_reason("tx.amount > 1 and 3"), Catch::Contains("'and' needs a boolean"));
  CHECK_THAT(refusal_reason("not tx.amount"), Catch::Contains("'not' needs a boolean"));
  CHECK_THAT(refusal_reason("tx.country + 1 > 2"), Catch::Contains("'+' needs a number"));
  CHECK_THAT(refusal_reason("tx.country in [1, 2]"), Catch::Contains("'in' lists hold texts"));
  CHECK_THAT(refusal_reason("tx.amount in [tx.amount]"), Catch::Contains("literals only"));
  CHECK_THAT(refusal_reason("tx.amount in []"), Catch::Contains("lists hold numbers"));
  CHECK_THAT(refusal_reason("tx.amount in [1, 2"), Catch::Contains("expected ','"));
  CHECK_THAT(refusal_reason("tx.amount not 5"), Catch::Contains("expected 'in' after 'not'"));
  CHECK_THAT(refusal_reason("avg(tx.amount) > 1"), Catch::Contains("unknown function 'avg'"));
  CHECK_THAT(refusal_reason("abs(1, 2) > 1"), Catch::Contains("takes one argument"));
  CHECK_THAT(refusal_reason("min(1) > 1"), Catch::Contains("two arguments or more"));
  CHECK_THAT(refusal_reason("missing(true)"), Catch::Contains("not a boolean"));
  CHECK_THAT(refusal_reason("tx.country == 'NL"), Catch::Contains("not closed"));
  CHECK(refusal_position("tx.amount > 5 # comment") == 14);
  CHECK_THAT(refusal_reason("(tx.amount > 5"), Catch::Contains("expected ')', found the end"));
  CHECK_THAT(refusal_reason(""), Catch::Contains("expected a value"));
  CHECK_THAT(refusal_reason("3x > 1"), Catch::Contains("runs into a name"));
}

TEST_CASE("rule language: bounds on length, nesting and lists are refused, not recursed into", "[unit][rules]") {
  std::string deep;
  for (int i = 0; i < 200'001; ++i)
    deep += "(";
  CHECK_THAT(refusal_reason(deep), Catch::Contains("longer than"));
  std::string nested;
  for (int i = 0; i < 200; ++i)
    nested += "not ";
  nested += "true";
  CHECK_THAT(refusal_reason(nested), Catch::Contains("nested deeper than 64"));
  std::string parens(100, '(');
  parens += "true" + std::string(100, ')');
  CHECK_THAT(refusal_reason(parens), Catch::Contains("nested deeper"));
  std::string minus(100, '-');
  CHECK_THAT(refusal_reason(minus + "1 > 0"), Catch::Contains("nested deeper"));
  CHECK_NOTHROW(rule_expression::compile(std::string(60, '(') + "true" + std::string(60, ')')));
  CHECK_THAT(refusal_reason("tx.country == '" + std::string(300, 'x') + "'"), Catch::Contains("longer than 256"));
  // Long chains parse in loops but would evaluate recursively: bounded too.
  std::string sum = "1";
  for (int i = 0; i < 40'000; ++i)
    sum += "+1";
  CHECK_THAT(refusal_reason(sum + " > 0"), Catch::Contains("operations deep"));
  std::string conjunction = "true";
  for (int i = 0; i < 10'000; ++i)
    conjunction += " and true";
  CHECK_THAT(refusal_reason(conjunction), Catch::Contains("operations deep"));
  std::string fine = "1";
  for (int i = 0; i < 200; ++i)
    fine += "+1";
  scored s;
  CHECK(s.matches(fine + " == 201"));
}

TEST_CASE("rule language: a compiled rule's result equals a direct evaluation over random inputs",
          "[unit][rules]") {
  // Three rules covering every operator, checked against the same logic
  // written in C++, over random vectors with missing values mixed in.
  const auto a = static_cast<std::size_t>(index_of("user_count_1h"));
  const auto b = static_cast<std::size_t>(index_of("amount_zscore_30d"));
  const auto c = static_cast<std::size_t>(index_of("merchant_fraud_rate_7d"));
  auto r1 = rule_expression::compile(
    "(user_count_1h >= 5 and amount_zscore_30d > 2.5) or (tx.country in ['NG', 'RU'] and tx.amount > 900)");
  auto r2 = rule_expression::compile(
    "not (abs(amount_zscore_30d) < 1) and max(user_count_1h, merchant_fraud_rate_7d * 100) != 7 and "
    "tx.channel != 'pos'");
  auto r3 = rule_expression::compile("missing(merchant_fraud_rate_7d) or score + merchant_fraud_rate_7d / 2 > 0.6 "
                                     "or user_count_1h not in [0, 1, 2]");
  std::mt19937_64 rng(20261205);
  std::uniform_real_distribution<double> unit(0, 1);
  const char* countries[] = {"NL", "NG", "RU", "US"};
  const char* channels[] = {"pos", "online", "atm"};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto maybe_missing = [&](float v) { return unit(rng) < 0.15 ? nan : v; };
  auto gt = [](double x, double y) { return !std::isnan(x) && !std::isnan(y) && x > y; };
  auto ge = [](double x, double y) { return !std::isnan(x) && !std::isnan(y) && x >= y; };
  auto lt = [](double x, double y) { return !std::isnan(x) && !std::isnan(y) && x < y; };
  auto ne = [](double x, double y) { return !std::isnan(x) && !std::isnan(y) && x != y; };
  int fired[3] = {0, 0, 0};
  for (int i = 0; i < 20'000; ++i) {
    scored s;
    s.features[a] = maybe_missing(static_cast<float>(std::floor(unit(rng) * 10)));
    s.features[b] = maybe_missing(static_cast<float>(unit(rng) * 10 - 5));
    s.features[c] = maybe_missing(static_cast<float>(unit(rng) * 0.2));
    s.tx.country = countries[rng() % 4];
    s.tx.channel = channels[rng() % 3];
    s.tx.amount = unit(rng) * 2000;
    s.score = unit(rng);
    rules::rule_input in{s.tx, s.features, s.score};
    double fa = s.features[a], fb = s.features[b], fc = s.features[c];

    bool want1 = (ge(fa, 5) && gt(fb, 2.5)) || ((s.tx.country == "NG" || s.tx.country == "RU") && s.tx.amount > 900);
    double mx = (std::isnan(fa) || std::isnan(fc * 100)) ? std::nan("") : std::max(fa, fc * 100);
    bool want2 = !lt(std::fabs(fb), 1) && ne(mx, 7) && s.tx.channel != "pos";
    bool want3 = std::isnan(fc) || gt(s.score + fc / 2, 0.6) || (!std::isnan(fa) && fa != 0 && fa != 1 && fa != 2);
    REQUIRE(r1.matches(in) == want1);
    REQUIRE(r2.matches(in) == want2);
    REQUIRE(r3.matches(in) == want3);
    fired[0] += want1;
    fired[1] += want2;
    fired[2] += want3;
  }
  for (int n : fired) {  // every rule both fired and stayed quiet
    CHECK(n > 100);
    CHECK(n < 19'900);
  }
}

TEST_CASE("rule sets: every problem of a list is named by rule and field, a valid list compiles",
          "[unit][rules]") {
  std::vector<rules::rule_definition> list{
    {"deny-list", "tx.user_id in ['u-1', 'u-9']", "decline", 0, "known fraudster"},
    {"deny-list", "tx.amount >", "block", 0, ""},
    {"limit", "tx.amount > 5", "review", 0.5, ""},
    {"bad id!", "true", "adjust", 0, ""},
    {"ok", "true", "adjust", 2, std::string(600, 'd')},
  };
  auto problems = rules::check_rules(list);
  auto has = [&](std::size_t rule, const std::string& field, const std::string& words) {
    for (const auto& p : problems)
      if (p.rule == rule && p.field == field && p.reason.find(words) != std::string::npos)
        return true;
    return false;
  };
  CHECK(has(1, "id", "used by an earlier rule"));
  CHECK(has(1, "when", "at character 11"));
  CHECK(has(1, "action", "one of review, decline, allow, adjust"));
  CHECK(has(2, "score_delta", "only adjust rules"));
  CHECK(has(3, "id", "letters, digits"));
  CHECK(has(3, "score_delta", "other than 0"));
  CHECK(has(4, "score_delta", "[-1, 1]"));
  CHECK(has(4, "description", "at most 512"));
  CHECK(problems.size() == 8);
  CHECK_THROWS_AS(rules::rule_set::compile(list), std::invalid_argument);

  list.resize(1);
  list.push_back({"velocity", "user_count_1h > 3", "review", 0, ""});
  auto set = rules::rule_set::compile(list);
  CHECK(set.size() == 2);
  scored s;
  s.features[static_cast<std::size_t>(index_of("user_count_1h"))] = 5;
  std::vector<rules::rule_hit> hits;
  set.evaluate({s.tx, s.features, 0.1}, hits);
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].id == "deny-list");
  CHECK(hits[0].action == rules::rule_action::decline);
  CHECK(hits[0].description == "known fraudster");
  CHECK(hits[1].id == "velocity");
  std::vector<rules::rule_definition> too_many(rules::max_rules + 1, list[1]);
  CHECK(rules::check_rules(too_many).front().reason.find("at most 500") != std::string::npos);
}
