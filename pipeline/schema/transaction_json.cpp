#include "pipeline/schema/transaction_json.h"

#include "pipeline/schema/strict_json.h"
#include "pipeline/schema/transaction_direct_reader.h"
#include "pipeline/schema/transaction_rules.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace vigil::pipeline {
namespace {

using json = nlohmann::json;
using rules::is_upper_code;

constexpr const char* rules_too_long = "longer than ";

// Collects field errors while reading one object.
class field_reader {
 public:
  explicit field_reader(std::vector<field_error>& errors) : errors_(errors) {}

  /// Reads a string field; `required` decides whether absence is an error.
  std::string text(const json& obj, const char* key, const std::string& path,
                   bool required, std::size_t max_bytes) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required)
        fail(path, "missing");
      return {};
    }
    if (!it->is_string()) {
      fail(path, "must be a string");
      return {};
    }
    const auto& s = it->get_ref<const std::string&>();
    if (const char* problem = rules::text_problem(s, required, max_bytes))
      fail(path, problem == rules_too_long ? problem + std::to_string(max_bytes) + " bytes" : problem);
    return s;
  }

  std::optional<double> number(const json& obj, const char* key,
                               const std::string& path, bool required) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required)
        fail(path, "missing");
      return std::nullopt;
    }
    if (!it->is_number()) {
      fail(path, "must be a number");
      return std::nullopt;
    }
    double v = it->get<double>();
    if (!std::isfinite(v)) {
      fail(path, "must be finite");
      return std::nullopt;
    }
    return v;
  }

  void fail(const std::string& field, std::string reason) {
    errors_.push_back({field, std::move(reason)});
  }

 private:
  std::vector<field_error>& errors_;
};

// Fields a transaction object may hold (the nested ones are checked by their
// parents); anything else is refused under `unknown_fields::refuse`.
void refuse_unknown_fields(const json& obj, const std::vector<const char*>& known,
                           const std::string& prefix, field_reader& r) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool found = false;
    for (const char* k : known)
      found = found || it.key() == k;
    if (!found)
      r.fail(prefix + it.key(), "unknown field");
  }
}


// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

void read_label(const json& j, field_reader& r, labelled_transaction& out) {
  auto it = j.find("label");
  if (it == j.end() || it->is_null())
    return;
  if (!it->is_object()) {
    r.fail("label", "must be an object");
    return;
  }
  transaction_label label;
  auto fraud = it->find("is_fraud");
  if (fraud == it->end() || !fraud->is_boolean())
    r.fail("label.is_fraud", "must be a boolean");
  else
    label.is_fraud = fraud->get<bool>();
  label.pattern = r.text(*it, "pattern", "label.pattern", false, max_id_bytes);
  auto lt = r.text(*it, "label_time", "label.label_time", false, max_id_bytes);
  if (lt.empty()) {
    label.label_time_ms = label_time_unknown;
  } else if (auto ms = parse_iso8601_ms(lt)) {
    label.label_time_ms = *ms;
  } else {
    r.fail("label.label_time", "not an ISO-8601 UTC timestamp");
  }
  out.label = label;
}

} // namespace

namespace rules {

const char* text_problem(std::string_view s, bool required, std::size_t max_bytes) {
  if (required && s.empty())
    return "must not be empty";
  if (s.size() > max_bytes)
    return rules_too_long;
  if (has_control_character(s))
    return "must not contain control characters";
  return nullptr;
}

const char* amount_problem(double amount) {
  if (amount < 0 || std::signbit(amount))
    return "must not be negative";
  if (amount > 1e9)
    return "out of range (> 1e9)";
  return nullptr;
}

bool is_upper_code(std::string_view s, std::size_t len) {
  if (s.size() != len)
    return false;
  for (char c : s)
    if (c < 'A' || c > 'Z')
      return false;
  return true;
}

bool channel_known(std::string_view c) { return c == "pos" || c == "online" || c == "atm" || c == "mobile"; }
bool latitude_in_range(double lat) { return lat >= -90 && lat <= 90; }
bool longitude_in_range(double lon) { return lon >= -180 && lon <= 180; }

} // namespace rules

bool has_control_character(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f)
      return true;
  return false;
}

std::string parse_result::message() const {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty())
      out += "; ";
    out += e.field + ": " + e.reason;
  }
  return out;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)
  int year, month, day, hour, minute, second;
  if (!read_digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' ||
      !read_digits(s, 5, 2, month) || s[7] != '-' ||
      !read_digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != ' ') ||
      !read_digits(s, 11, 2, hour) || s[13] != ':' ||
      !read_digits(s, 14, 2, minute) || s[16] != ':' ||
      !read_digits(s, 17, 2, second))
    return std::nullopt;
  static constexpr int days_in_month[] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int month_days = month >= 1 && month <= 12 ? days_in_month[month - 1] + (month == 2 && leap) : 0;
  // Leap seconds (:60) are refused: epoch milliseconds cannot hold them.
  if (day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3)
        millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
    for (; digits < 3; ++digits)
      millis *= 10;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!read_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() ||
        s[pos + 3] != ':' || !read_digits(s, pos + 4, 2, om) || oh > 23 ||
        om > 59)
      return std::nullopt;
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt; // a timestamp without zone is ambiguous
  }
  if (pos != s.size())
    return std::nullopt;
  std::int64_t days = days_from_civil(year, month, day);
  std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second -
                      offset_minutes * 60;
  std::int64_t ms = secs * 1000 + millis;
  // An offset must not carry the instant out of years 0000-9999, which the
  // formatter (and every reader of it) could not represent.
  if (ms < min_timestamp_ms || ms > max_timestamp_ms)
    return std::nullopt;
  return ms;
}

std::optional<std::string> future_time_error(std::int64_t event_time_ms, std::int64_t reference_ms,
                                             std::int64_t max_skew_ms) {
  if (event_time_ms - reference_ms <= max_skew_ms)
    return std::nullopt;
  return "more than " + std::to_string(max_skew_ms / 1000) + " s ahead of " + format_iso8601_ms(reference_ms) +
         " (max_event_time_skew_ms)";
}

std::string format_iso8601_ms(std::int64_t ms) {
  if (ms >= min_timestamp_ms && ms <= max_timestamp_ms) {
    // Civil date from days (Howard Hinnant's algorithm), digits written
    // directly: this runs for every decision rendered.
    std::int64_t days = (ms >= 0 ? ms : ms - 86'399'999) / 86'400'000;
    std::int64_t in_day = ms - days * 86'400'000;
    std::int64_t z = days + 719468;
    std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    auto doe = static_cast<unsigned>(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned day = doy - (153 * mp + 2) / 5 + 1;
    unsigned month = mp < 10 ? mp + 3 : mp - 9;
    auto year = static_cast<unsigned>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2));
    std::string out = "0000-00-00T00:00:00.000Z";
    auto put = [&out](std::size_t at, unsigned value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10)
        out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, static_cast<unsigned>(in_day / 3'600'000), 2);
    put(14, static_cast<unsigned>(in_day / 60'000 % 60), 2);
    put(17, static_cast<unsigned>(in_day / 1000 % 60), 2);
    put(20, static_cast<unsigned>(in_day % 1000), 3);
    return out;
  }
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

parse_result transaction_from_json(const json& j, unknown_fields unknown) {
  parse_result result;
  if (!j.is_object()) {
    result.errors.push_back({"$", "must be a JSON object"});
    return result;
  }
  field_reader r{result.errors};
  if (unknown == unknown_fields::refuse) {
    refuse_unknown_fields(j, {"transaction_id", "user_id", "amount", "currency", "merchant", "merchant_id",
                              "merchant_name", "merchant_category", "timestamp", "location", "country",
                              "device_id", "channel"},
                          "", r);
    if (auto m = j.find("merchant"); m != j.end() && m->is_object())
      refuse_unknown_fields(*m, {"id", "name", "category"}, "merchant.", r);
    if (auto l = j.find("location"); l != j.end() && l->is_object())
      refuse_unknown_fields(*l, {"country", "lat", "lon"}, "location.", r);
  }
  labelled_transaction out;
  auto& tx = out.tx;
  tx.transaction_id = r.text(j, "transaction_id", "transaction_id", true, max_id_bytes);
  tx.user_id = r.text(j, "user_id", "user_id", true, max_id_bytes);
  if (auto amount = r.number(j, "amount", "amount", true)) {
    if (const char* problem = rules::amount_problem(*amount))
      r.fail("amount", problem);
    tx.amount = *amount;
  }
  tx.currency = r.text(j, "currency", "currency", true, max_id_bytes);
  if (!tx.currency.empty() && !is_upper_code(tx.currency, 3))
    r.fail("currency", "must be a 3-letter upper-case ISO-4217 code");

  // Merchant: nested object {"id","name","category"} or flat merchant_* fields.
  auto merchant = j.find("merchant");
  if (merchant != j.end() && merchant->is_object()) {
    tx.merchant_id = r.text(*merchant, "id", "merchant.id", true, max_id_bytes);
    tx.merchant_name = r.text(*merchant, "name", "merchant.name", false, max_name_bytes);
    tx.merchant_category = r.text(*merchant, "category", "merchant.category", false, max_id_bytes);
  } else if (merchant != j.end() && !merchant->is_null()) {
    r.fail("merchant", "must be an object");
  } else {
    tx.merchant_id = r.text(j, "merchant_id", "merchant_id", true, max_id_bytes);
    tx.merchant_name = r.text(j, "merchant_name", "merchant_name", false, max_name_bytes);
    tx.merchant_category = r.text(j, "merchant_category", "merchant_category", false, max_id_bytes);
  }

  auto ts = r.text(j, "timestamp", "timestamp", true, max_id_bytes);
  if (!ts.empty()) {
    if (auto ms = parse_iso8601_ms(ts))
      tx.event_time_ms = *ms;
    else
      r.fail("timestamp", "not a valid ISO-8601 timestamp with zone (a real calendar date, "
                          "seconds 00-59, years 0000-9999)");
  }

  auto location = j.find("location");
  if (location != j.end() && location->is_object()) {
    tx.country = r.text(*location, "country", "location.country", false, max_id_bytes);
    tx.latitude = r.number(*location, "lat", "location.lat", false);
    tx.longitude = r.number(*location, "lon", "location.lon", false);
  } else if (location != j.end() && !location->is_null()) {
    r.fail("location", "must be an object");
  } else {
    tx.country = r.text(j, "country", "country", false, max_id_bytes);
  }
  if (!tx.country.empty() && !is_upper_code(tx.country, 2))
    r.fail("location.country", "must be a 2-letter upper-case ISO-3166 code");
  if (tx.latitude && !rules::latitude_in_range(*tx.latitude))
    r.fail("location.lat", "out of range [-90, 90]");
  if (tx.longitude && !rules::longitude_in_range(*tx.longitude))
    r.fail("location.lon", "out of range [-180, 180]");
  if (tx.latitude.has_value() != tx.longitude.has_value())
    r.fail(tx.latitude ? "location.lon" : "location.lat",
           "lat and lon must be given together");

  tx.device_id = r.text(j, "device_id", "device_id", false, max_id_bytes);
  tx.channel = r.text(j, "channel", "channel", false, max_id_bytes);
  if (!tx.channel.empty() && !rules::channel_known(tx.channel))
    r.fail("channel", "must be one of pos, online, atm, mobile");

  if (unknown == unknown_fields::allow)
    read_label(j, r, out);
  if (result.errors.empty())
    result.value = std::move(out);
  return result;
}

parse_result parse_transaction(std::string_view text) {
  if (auto direct = read_transactions_directly(text, unknown_fields::allow, 0)) {
    parse_result result;
    result.value = std::move(direct->items.front());
    return result;
  }
  json j;
  auto parsed = parse_strict_json(text, j);
  if (!parsed.ok) {
    parse_result result;
    result.errors.push_back({parsed.field, parsed.reason});
    return result;
  }
  return transaction_from_json(j, unknown_fields::allow);
}

json to_json(const transaction& tx) {
  json j;
  j["transaction_id"] = tx.transaction_id;
  j["user_id"] = tx.user_id;
  j["amount"] = tx.amount;
  j["currency"] = tx.currency;
  json merchant{{"id", tx.merchant_id}};
  if (!tx.merchant_category.empty())
    merchant["category"] = tx.merchant_category;
  if (!tx.merchant_name.empty())
    merchant["name"] = tx.merchant_name;
  j["merchant"] = std::move(merchant);
  j["timestamp"] = format_iso8601_ms(tx.event_time_ms);
  json location = json::object();
  if (!tx.country.empty())
    location["country"] = tx.country;
  if (tx.latitude && tx.longitude) {
    location["lat"] = *tx.latitude;
    location["lon"] = *tx.longitude;
  }
  if (!location.empty())
    j["location"] = std::move(location);
  if (!tx.device_id.empty())
    j["device_id"] = tx.device_id;
  if (!tx.channel.empty())
    j["channel"] = tx.channel;
  return j;
}

json to_json(const labelled_transaction& ltx) {
  json j = to_json(ltx.tx);
  if (ltx.label) {
    json label{{"is_fraud", ltx.label->is_fraud}};
    if (ltx.label->label_time_ms != label_time_unknown)
      label["label_time"] = format_iso8601_ms(ltx.label->label_time_ms);
    if (!ltx.label->pattern.empty())
      label["pattern"] = ltx.label->pattern;
    j["label"] = std::move(label);
  }
  return j;
}

} // namespace vigil::pipeline
