#include "pipeline/rules/rule_expression.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <unordered_set>
#include <vector>

namespace vigil::rules {
namespace {

enum class value_type { number, text, boolean };

const char* type_name(value_type t) {
  switch (t) {
    case value_type::number: return "a number";
    case value_type::text: return "a text";
    case value_type::boolean: return "a boolean";
  }
  return "?";
}

enum class op {
  number, text, boolean,                        // constants
  feature, score, tx_amount, tx_text,           // inputs
  negate, add, subtract, multiply, divide,      // arithmetic
  less, less_equal, greater, greater_equal, equal_number, not_equal_number, equal_text, not_equal_text,
  in_numbers, in_texts,                         // flag: "not in"
  logical_not, logical_and, logical_or,
  abs, sqrt, log1p, min, max, missing_number, missing_text,
};

enum class tx_field { currency, country, merchant_category, channel, user_id, merchant_id, device_id };

struct node {
  op code = op::number;
  value_type type = value_type::number;
  std::vector<int> args;
  int depth = 1;  ///< of the tree under it: evaluation recurses this deep
  double number = 0;
  bool flag = false;
  std::string text;
  int field = 0;
  std::vector<double> numbers;  ///< sorted, for `in`
  std::unordered_set<std::string> texts;
};

enum class token_kind { number, text, name, symbol, end };

struct token {
  token_kind kind = token_kind::end;
  std::string text;  ///< the symbol, the name, or the text literal's value
  double number = 0;
  std::size_t position = 0;
};

std::vector<token> tokenize(const std::string& s) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    token t;
    t.position = i;
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      const char* begin = s.c_str() + i;
      char* end = nullptr;
      t.number = std::strtod(begin, &end);
      if (end == begin || !std::isfinite(t.number))
        throw rule_syntax_error(i, "not a number");
      t.kind = token_kind::number;
      i += static_cast<std::size_t>(end - begin);
      if (i < s.size() && (std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '_'))
        throw rule_syntax_error(i, "a number runs into a name");
    } else if (c == '"' || c == '\'') {
      t.kind = token_kind::text;
      std::size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size())
          ++j;
        t.text += s[j];
      }
      if (j >= s.size())
        throw rule_syntax_error(i, "a text that is not closed");
      if (t.text.size() > max_text_literal)
        throw rule_syntax_error(i, "a text longer than " + std::to_string(max_text_literal) + " characters");
      i = j + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = token_kind::name;
      std::size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.'))
        ++j;
      t.text = s.substr(i, j - i);
      i = j;
    } else {
      static const char* two[] = {"<=", ">=", "==", "!="};
      t.kind = token_kind::symbol;
      for (const char* sym : two)
        if (s.compare(i, 2, sym) == 0)
          t.text = sym;
      if (t.text.empty()) {
        if (std::string("()[],+-*/<>").find(c) == std::string::npos)
          throw rule_syntax_error(i, std::string("unexpected character '") + c + "'");
        t.text = std::string(1, c);
      }
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  token end;
  end.position = s.size();
  out.push_back(end);
  return out;
}

int feature_index(const std::string& name) {
  const auto& names = pipeline::feature_names();
  for (int i = 0; i < pipeline::feature_count; ++i)
    if (name == names[static_cast<std::size_t>(i)])
      return i;
  return -1;
}

class parser {
 public:
  explicit parser(const std::string& text) : tokens_(tokenize(text)) {}

  std::vector<node> nodes;

  int parse_whole() {
    auto root = expression();
    if (peek().kind != token_kind::end)
      throw rule_syntax_error(peek().position, "unexpected '" + peek().text + "' after a complete expression");
    expect_type(root, value_type::boolean, 0, "a rule");
    return root;
  }

 private:
  std::vector<token> tokens_;
  std::size_t next_ = 0;
  int depth_ = 0;

  const token& peek() const { return tokens_[next_]; }
  bool at_symbol(const char* s) const { return peek().kind == token_kind::symbol && peek().text == s; }
  bool at_word(const char* w) const { return peek().kind == token_kind::name && peek().text == w; }
  const token& take() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }
  void expect_symbol(const char* s) {
    if (!at_symbol(s))
      throw rule_syntax_error(peek().position, std::string("expected '") + s + "'" + found());
    take();
  }
  std::string found() const {
    return peek().kind == token_kind::end ? ", found the end" : ", found '" + peek_text() + "'";
  }
  std::string peek_text() const {
    return peek().kind == token_kind::number ? std::to_string(peek().number) : peek().text;
  }

  struct depth_guard {
    parser& p;
    depth_guard(parser& owner, std::size_t position) : p(owner) {
      if (++p.depth_ > max_nesting)
        throw rule_syntax_error(position, "nested deeper than " + std::to_string(max_nesting));
    }
    ~depth_guard() { --p.depth_; }
  };

  int add(node n) {
    // Chains ("a + b + c ...", "x and y and z ...") are parsed in loops but
    // evaluated recursively: their depth is bounded as nesting is.
    for (auto a : n.args)
      n.depth = std::max(n.depth, nodes[static_cast<std::size_t>(a)].depth + 1);
    if (n.depth > max_tree_depth)
      throw rule_syntax_error(peek().position, "more than " + std::to_string(max_tree_depth) +
                                                 " operations deep (split the rule)");
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }
  int unary_node(op code, value_type type, int arg) {
    node n;
    n.code = code;
    n.type = type;
    n.args = {arg};
    return add(std::move(n));
  }
  int binary_node(op code, value_type type, int a, int b) {
    node n;
    n.code = code;
    n.type = type;
    n.args = {a, b};
    return add(std::move(n));
  }
  void expect_type(int index, value_type want, std::size_t position, const std::string& what) {
    auto got = nodes[static_cast<std::size_t>(index)].type;
    if (got != want)
      throw rule_syntax_error(position, what + " needs " + type_name(want) + ", not " + type_name(got));
  }

  int expression() {
    depth_guard guard(*this, peek().position);
    auto left = term();
    while (at_word("or")) {
      auto position = take().position;
      auto right = term();
      expect_type(left, value_type::boolean, position, "'or'");
      expect_type(right, value_type::boolean, position, "'or'");
      left = binary_node(op::logical_or, value_type::boolean, left, right);
    }
    return left;
  }

  int term() {
    auto left = factor();
    while (at_word("and")) {
      auto position = take().position;
      auto right = factor();
      expect_type(left, value_type::boolean, position, "'and'");
      expect_type(right, value_type::boolean, position, "'and'");
      left = binary_node(op::logical_and, value_type::boolean, left, right);
    }
    return left;
  }

  int factor() {
    if (at_word("not")) {
      depth_guard guard(*this, peek().position);
      auto position = take().position;
      auto arg = factor();
      expect_type(arg, value_type::boolean, position, "'not'");
      return unary_node(op::logical_not, value_type::boolean, arg);
    }
    return comparison();
  }

  int comparison() {
    auto left = sum();
    auto position = peek().position;
    static const std::pair<const char*, op> numeric[] = {{"<", op::less},         {"<=", op::less_equal},
                                                         {">", op::greater},      {">=", op::greater_equal},
                                                         {"==", op::equal_number}, {"!=", op::not_equal_number}};
    for (const auto& [symbol, code] : numeric) {
      if (!at_symbol(symbol))
        continue;
      take();
      auto right = sum();
      auto lt = nodes[static_cast<std::size_t>(left)].type, rt = nodes[static_cast<std::size_t>(right)].type;
      if (lt != rt)
        throw rule_syntax_error(position, std::string("'") + symbol + "' compares " + type_name(lt) + " with " +
                                            type_name(rt));
      if (lt == value_type::text) {
        if (code != op::equal_number && code != op::not_equal_number)
          throw rule_syntax_error(position, std::string("'") + symbol + "' does not order texts: use == or !=");
        return binary_node(code == op::equal_number ? op::equal_text : op::not_equal_text, value_type::boolean,
                           left, right);
      }
      if (lt != value_type::number)
        throw rule_syntax_error(position, std::string("'") + symbol + "' compares numbers or texts, not booleans");
      return binary_node(code, value_type::boolean, left, right);
    }
    bool negated = false;
    if (at_word("not")) {  // after a value, only "not in" can follow
      take();
      if (!at_word("in"))
        throw rule_syntax_error(peek().position, "expected 'in' after 'not'" + found());
      negated = true;
    }
    if (at_word("in"))
      return membership(left, negated);
    return left;
  }

  int membership(int left, bool negated) {
    auto position = take().position;
    auto type = nodes[static_cast<std::size_t>(left)].type;
    if (type == value_type::boolean)
      throw rule_syntax_error(position, "'in' needs a number or a text on its left, not a boolean");
    node n;
    n.code = type == value_type::number ? op::in_numbers : op::in_texts;
    n.type = value_type::boolean;
    n.flag = negated;
    n.args = {left};
    expect_symbol("[");
    for (;;) {
      const auto& item = peek();
      bool minus = false;
      if (type == value_type::number && at_symbol("-")) {
        take();
        minus = true;
      }
      const auto& literal = peek();
      if (type == value_type::number && literal.kind == token_kind::number)
        n.numbers.push_back(minus ? -literal.number : literal.number);
      else if (type == value_type::text && literal.kind == token_kind::text)
        n.texts.insert(literal.text);
      else
        throw rule_syntax_error(item.position, std::string("'in' lists hold ") +
                                                 (type == value_type::number ? "numbers" : "texts") +
                                                 " here (literals only)" + found());
      take();
      if (n.numbers.size() + n.texts.size() > max_list_items)
        throw rule_syntax_error(item.position, "an 'in' list longer than " + std::to_string(max_list_items));
      if (at_symbol("]"))
        break;
      expect_symbol(",");
    }
    take();
    std::sort(n.numbers.begin(), n.numbers.end());
    return add(std::move(n));
  }

  int sum() {
    auto left = product();
    while (at_symbol("+") || at_symbol("-")) {
      const auto& t = take();
      auto code = t.text == "+" ? op::add : op::subtract;
      auto right = product();
      expect_type(left, value_type::number, t.position, "'" + t.text + "'");
      expect_type(right, value_type::number, t.position, "'" + t.text + "'");
      left = binary_node(code, value_type::number, left, right);
    }
    return left;
  }

  int product() {
    auto left = unary();
    while (at_symbol("*") || at_symbol("/")) {
      const auto& t = take();
      auto code = t.text == "*" ? op::multiply : op::divide;
      auto right = unary();
      expect_type(left, value_type::number, t.position, "'" + t.text + "'");
      expect_type(right, value_type::number, t.position, "'" + t.text + "'");
      left = binary_node(code, value_type::number, left, right);
    }
    return left;
  }

  int unary() {
    if (at_symbol("-")) {
      depth_guard guard(*this, peek().position);
      auto position = take().position;
      auto arg = unary();
      expect_type(arg, value_type::number, position, "'-'");
      return unary_node(op::negate, value_type::number, arg);
    }
    return primary();
  }

  int primary() {
    const auto& t = peek();
    auto position = t.position;
    if (t.kind == token_kind::number) {
      node n;
      n.number = take().number;
      return add(std::move(n));
    }
    if (t.kind == token_kind::text) {
      node n;
      n.code = op::text;
      n.type = value_type::text;
      n.text = take().text;
      return add(std::move(n));
    }
    if (at_symbol("(")) {
      take();
      auto inner = expression();
      expect_symbol(")");
      return inner;
    }
    if (t.kind != token_kind::name)
      throw rule_syntax_error(position, "expected a value" + found());
    auto name = take().text;
    if (at_symbol("("))
      return call(name, position);
    return input(name, position);
  }

  int input(const std::string& name, std::size_t position) {
    node n;
    if (name == "true" || name == "false") {
      n.code = op::boolean;
      n.type = value_type::boolean;
      n.flag = name == "true";
      return add(std::move(n));
    }
    if (name == "score") {
      n.code = op::score;
      return add(std::move(n));
    }
    if (name == "tx.amount") {
      n.code = op::tx_amount;
      return add(std::move(n));
    }
    static const std::pair<const char*, tx_field> texts[] = {
      {"tx.currency", tx_field::currency},   {"tx.country", tx_field::country},
      {"tx.merchant_category", tx_field::merchant_category}, {"tx.channel", tx_field::channel},
      {"tx.user_id", tx_field::user_id},     {"tx.merchant_id", tx_field::merchant_id},
      {"tx.device_id", tx_field::device_id}};
    for (const auto& [field_name, field] : texts)
      if (name == field_name) {
        n.code = op::tx_text;
        n.type = value_type::text;
        n.field = static_cast<int>(field);
        return add(std::move(n));
      }
    auto index = feature_index(name);
    if (index < 0)
      throw rule_syntax_error(position, "unknown name '" + name +
                                          "': a feature of the schema, score, or a tx. field (tx.amount, "
                                          "tx.currency, tx.country, tx.merchant_category, tx.channel, "
                                          "tx.user_id, tx.merchant_id, tx.device_id)");
    n.code = op::feature;
    n.field = index;
    return add(std::move(n));
  }

  int call(const std::string& name, std::size_t position) {
    depth_guard guard(*this, position);
    take();  // (
    std::vector<int> args{expression()};
    while (at_symbol(",")) {
      take();
      args.push_back(expression());
    }
    expect_symbol(")");
    node n;
    n.args = args;
    auto numbers_only = [&] {
      for (auto a : args)
        expect_type(a, value_type::number, position, name + "()");
    };
    if (name == "abs" || name == "sqrt" || name == "log1p") {
      if (args.size() != 1)
        throw rule_syntax_error(position, name + "() takes one argument");
      numbers_only();
      n.code = name == "abs" ? op::abs : name == "sqrt" ? op::sqrt : op::log1p;
    } else if (name == "min" || name == "max") {
      if (args.size() < 2)
        throw rule_syntax_error(position, name + "() takes two arguments or more");
      numbers_only();
      n.code = name == "min" ? op::min : op::max;
    } else if (name == "missing") {
      if (args.size() != 1)
        throw rule_syntax_error(position, "missing() takes one argument");
      auto type = nodes[static_cast<std::size_t>(args[0])].type;
      if (type == value_type::boolean)
        throw rule_syntax_error(position, "missing() takes a number or a text, not a boolean");
      n.code = type == value_type::number ? op::missing_number : op::missing_text;
      n.type = value_type::boolean;
    } else {
      throw rule_syntax_error(position, "unknown function '" + name + "': abs, sqrt, log1p, min, max, missing");
    }
    return add(std::move(n));
  }
};

const std::string& tx_text(const pipeline::transaction& tx, int field) {
  switch (static_cast<tx_field>(field)) {
    case tx_field::currency: return tx.currency;
    case tx_field::country: return tx.country;
    case tx_field::merchant_category: return tx.merchant_category;
    case tx_field::channel: return tx.channel;
    case tx_field::user_id: return tx.user_id;
    case tx_field::merchant_id: return tx.merchant_id;
    case tx_field::device_id: return tx.device_id;
  }
  return tx.device_id;
}

} // namespace

struct rule_expression::program {
  std::vector<node> nodes;
  int root = 0;

  const node& at(int i) const { return nodes[static_cast<std::size_t>(i)]; }

  double number(int i, const rule_input& in) const {
    const auto& n = at(i);
    switch (n.code) {
      case op::number: return n.number;
      case op::feature: return in.features[static_cast<std::size_t>(n.field)];
      case op::score: return in.score;
      case op::tx_amount: return in.tx.amount;
      case op::negate: return -number(n.args[0], in);
      case op::add: return number(n.args[0], in) + number(n.args[1], in);
      case op::subtract: return number(n.args[0], in) - number(n.args[1], in);
      case op::multiply: return number(n.args[0], in) * number(n.args[1], in);
      case op::divide: return number(n.args[0], in) / number(n.args[1], in);
      case op::abs: return std::fabs(number(n.args[0], in));
      case op::sqrt: return std::sqrt(number(n.args[0], in));
      case op::log1p: return std::log1p(number(n.args[0], in));
      case op::min:
      case op::max: {
        // A missing argument makes the result missing.
        double out = number(n.args[0], in);
        for (std::size_t k = 1; k < n.args.size(); ++k) {
          double v = number(n.args[k], in);
          if (std::isnan(v) || std::isnan(out))
            out = std::nan("");
          else
            out = n.code == op::min ? std::min(out, v) : std::max(out, v);
        }
        return out;
      }
      default: return std::nan("");
    }
  }

  const std::string& text(int i, const rule_input& in) const {
    const auto& n = at(i);
    return n.code == op::tx_text ? tx_text(in.tx, n.field) : n.text;
  }

  bool boolean(int i, const rule_input& in) const {
    const auto& n = at(i);
    auto compare = [&](auto f) {
      double a = number(n.args[0], in), b = number(n.args[1], in);
      return !std::isnan(a) && !std::isnan(b) && f(a, b);
    };
    switch (n.code) {
      case op::boolean: return n.flag;
      case op::less: return compare([](double a, double b) { return a < b; });
      case op::less_equal: return compare([](double a, double b) { return a <= b; });
      case op::greater: return compare([](double a, double b) { return a > b; });
      case op::greater_equal: return compare([](double a, double b) { return a >= b; });
      case op::equal_number: return compare([](double a, double b) { return a == b; });
      case op::not_equal_number: return compare([](double a, double b) { return a != b; });
      case op::equal_text: return text(n.args[0], in) == text(n.args[1], in);
      case op::not_equal_text: return text(n.args[0], in) != text(n.args[1], in);
      case op::in_numbers: {
        double v = number(n.args[0], in);
        if (std::isnan(v))
          return false;
        return std::binary_search(n.numbers.begin(), n.numbers.end(), v) != n.flag;
      }
      case op::in_texts: return (n.texts.count(text(n.args[0], in)) > 0) != n.flag;
      case op::logical_not: return !boolean(n.args[0], in);
      case op::logical_and: return boolean(n.args[0], in) && boolean(n.args[1], in);
      case op::logical_or: return boolean(n.args[0], in) || boolean(n.args[1], in);
      case op::missing_number: return std::isnan(number(n.args[0], in));
      case op::missing_text: return text(n.args[0], in).empty();
      default: return false;
    }
  }
};

rule_expression rule_expression::compile(const std::string& text) {
  if (text.size() > max_expression_chars)
    throw rule_syntax_error(max_expression_chars,
                            "longer than " + std::to_string(max_expression_chars) + " characters");
  parser p(text);
  auto prog = std::make_shared<program>();
  prog->root = p.parse_whole();
  prog->nodes = std::move(p.nodes);
  return rule_expression(std::move(prog));
}

bool rule_expression::matches(const rule_input& in) const { return program_->boolean(program_->root, in); }

} // namespace vigil::rules
