#pragma once
// The rule language: one boolean expression over a scored transaction (its
// feature vector, its own fields and the model's score), compiled once per
// config version and evaluated per transaction. Plain C++.
//
//   expression := term ("or" term)*
//   term       := factor ("and" factor)*
//   factor     := "not" factor | comparison
//   comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum
//                      | ["not"] "in" "[" literal ("," literal)* "]"]
//   sum        := product (("+" | "-") product)*
//   product    := unary (("*" | "/") unary)*
//   unary      := "-" unary | primary
//   primary    := number | "text" | true | false | name
//                 | function "(" expression ("," expression)* ")"
//                 | "(" expression ")"
//
// Names: every feature of the schema (pipeline::feature_names, numbers),
// `score` (the model's probability), and the transaction's fields:
// tx.amount (number), tx.currency, tx.country, tx.merchant_category,
// tx.channel, tx.user_id, tx.merchant_id, tx.device_id (text).
// Functions: abs(x), sqrt(x), log1p(x), min(a, b, ...), max(a, b, ...),
// missing(x) (a number that is missing, or an empty text).
//
// Types are checked when the rule compiles: numbers compare with numbers,
// texts with texts (== and != only), `and`/`or`/`not` take booleans, and
// the whole expression must be a boolean. A missing feature is NaN; every
// comparison with a missing number is false (`!=` too), so a rule never
// fires on a signal that is absent unless it asks with missing().

#include "pipeline/features/feature_schema.h"
#include "pipeline/schema/transaction.h"

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

namespace vigil::rules {

/// Bounds on what one expression may hold (config validation refuses more).
/// Long enough for an `in` list of max_list_items ids; the whole config
/// is bounded by the HTTP body limit too.
constexpr std::size_t max_expression_chars = 200'000;
constexpr int max_nesting = 64;
/// Operations in a chain count too: "a + b + c" is two deep.
constexpr int max_tree_depth = 256;
constexpr std::size_t max_list_items = 10'000;
constexpr std::size_t max_text_literal = 256;

/// A rule that does not compile: where (0-based character offset into its
/// text) and why.
class rule_syntax_error : public std::runtime_error {
 public:
  rule_syntax_error(std::size_t position, const std::string& reason)
    : std::runtime_error("at " + std::to_string(position) + ": " + reason), position_(position), reason_(reason) {}
  std::size_t position() const { return position_; }
  const std::string& reason() const { return reason_; }

 private:
  std::size_t position_;
  std::string reason_;
};

/// What a rule sees of one scored transaction.
struct rule_input {
  const pipeline::transaction& tx;
  const pipeline::feature_vector& features;
  double score = 0;
};

/// A compiled boolean expression. Copies share the compiled form.
class rule_expression {
 public:
  /// Throws rule_syntax_error.
  static rule_expression compile(const std::string& text);
  bool matches(const rule_input& in) const;

  struct program;

 private:
  explicit rule_expression(std::shared_ptr<const program> p) : program_(std::move(p)) {}
  std::shared_ptr<const program> program_;
};

} // namespace vigil::rules
