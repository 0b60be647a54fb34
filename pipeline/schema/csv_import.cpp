#include "pipeline/schema/csv_import.h"

#include "pipeline/schema/transaction_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace vigil::pipeline {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::optional<double> number(std::string_view text) {
  text = trimmed(text);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::optional<bool> flag(std::string_view text) {
  auto v = lower(trimmed(text));
  if (v == "1" || v == "true" || v == "yes" || v == "fraud")
    return true;
  if (v == "0" || v == "false" || v == "no" || v == "legit" || v == "legitimate")
    return false;
  return std::nullopt;
}

} // namespace

std::optional<std::vector<std::string>> split_csv_line(std::string_view line, char separator) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  std::vector<std::string> fields(1);
  bool quoted = false, after_quote = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        after_quote = true;
      } else {
        fields.back() += c;
      }
    } else if (c == separator) {
      fields.emplace_back();
      after_quote = false;
    } else if (after_quote) {
      return std::nullopt;  // text after a closing quote
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else {
      fields.back() += c;
    }
  }
  if (quoted)
    return std::nullopt;
  return fields;
}

const std::vector<std::string>& importable_fields() {
  static const std::vector<std::string> fields = {
    "transaction_id", "user_id", "amount", "currency", "merchant_id", "merchant_category", "merchant_name",
    "timestamp", "country", "lat", "lon", "device_id", "channel", "is_fraud", "label_time", "pattern"};
  return fields;
}

csv_mapping map_columns(const std::vector<std::string>& header, const std::string& spec,
                        const std::string& default_currency) {
  csv_mapping m;
  m.default_currency = default_currency;
  std::size_t start = 0;
  while (start < spec.size()) {
    auto comma = spec.find(',', start);
    auto item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() : comma + 1;
    auto eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("--map expects field=COLUMN, got '" + item + "'");
    auto field = item.substr(0, eq), column = item.substr(eq + 1);
    const auto& known = importable_fields();
    if (std::find(known.begin(), known.end(), field) == known.end())
      throw std::invalid_argument("--map: unknown field '" + field + "'");
    auto at = std::find(header.begin(), header.end(), column);
    if (at == header.end())
      throw std::invalid_argument("--map: the header has no column '" + column + "' (for " + field + ")");
    m.columns[field] = static_cast<std::size_t>(at - header.begin());
  }
  for (const char* required : {"transaction_id", "user_id", "amount", "merchant_id", "timestamp"})
    if (!m.columns.count(required))
      throw std::invalid_argument(std::string("--map: ") + required + " is required");
  if (!m.columns.count("currency") && m.default_currency.empty())
    throw std::invalid_argument("--map: map currency, or give every row one with --currency");
  return m;
}

std::optional<std::int64_t> parse_csv_time(std::string_view text) {
  text = trimmed(text);
  if (auto iso = parse_iso8601_ms(text))
    return iso;
  if (text.size() >= 19 && text[10] == ' ') {  // "YYYY-MM-DD HH:MM:SS", no zone: UTC
    std::string zoned(text);
    zoned[10] = 'T';
    return parse_iso8601_ms(zoned + "Z");
  }
  if (auto seconds = number(text); seconds && *seconds >= 0) {
    double ms = *seconds < 1e11 ? *seconds * 1000.0 : *seconds;
    if (ms < 253'402'300'800'000.0)  // before the year 10000
      return static_cast<std::int64_t>(std::llround(ms));
  }
  return std::nullopt;
}

imported_row import_row(const std::vector<std::string>& fields, const csv_mapping& m) {
  imported_row out;
  auto cell = [&](const char* field) -> std::optional<std::string_view> {
    auto it = m.columns.find(field);
    if (it == m.columns.end() || it->second >= fields.size())
      return std::nullopt;
    auto v = trimmed(fields[it->second]);
    if (v.empty())
      return std::nullopt;
    return v;
  };
  auto fail = [&](const std::string& field, const std::string& reason) {
    out.problem = field + ": " + reason;
    return out;
  };
  nlohmann::json j;
  for (const char* text_field : {"transaction_id", "user_id", "currency", "device_id", "channel"})
    if (auto v = cell(text_field))
      j[text_field] = std::string(*v);
  if (!j.contains("currency") && !m.default_currency.empty())
    j["currency"] = m.default_currency;
  if (auto v = cell("amount")) {
    auto amount = number(*v);
    if (!amount)
      return fail("amount", "not a number: '" + std::string(*v) + "'");
    j["amount"] = *amount;
  }
  nlohmann::json merchant = nlohmann::json::object();
  if (auto v = cell("merchant_id"))
    merchant["id"] = std::string(*v);
  if (auto v = cell("merchant_category"))
    merchant["category"] = std::string(*v);
  if (auto v = cell("merchant_name"))
    merchant["name"] = std::string(*v);
  j["merchant"] = merchant;
  if (auto v = cell("timestamp")) {
    auto t = parse_csv_time(*v);
    if (!t)
      return fail("timestamp", "not a time: '" + std::string(*v) + "'");
    j["timestamp"] = format_iso8601_ms(*t);
  }
  nlohmann::json location = nlohmann::json::object();
  if (auto v = cell("country"))
    location["country"] = std::string(*v);
  for (const char* axis : {"lat", "lon"})
    if (auto v = cell(axis)) {
      auto x = number(*v);
      if (!x)
        return fail(axis, "not a number: '" + std::string(*v) + "'");
      location[axis] = *x;
    }
  if (!location.empty())
    j["location"] = location;
  if (auto v = cell("is_fraud")) {
    auto fraud = flag(*v);
    if (!fraud)
      return fail("is_fraud", "not 1/0, true/false or yes/no: '" + std::string(*v) + "'");
    nlohmann::json label{{"is_fraud", *fraud}};
    if (auto lt = cell("label_time")) {
      auto t = parse_csv_time(*lt);
      if (!t)
        return fail("label_time", "not a time: '" + std::string(*lt) + "'");
      label["label_time"] = format_iso8601_ms(*t);
    }
    if (auto p = cell("pattern"))
      label["pattern"] = std::string(*p);
    j["label"] = label;
  }
  out.record = std::move(j);
  return out;
}

} // namespace vigil::pipeline
