#include "pipeline/schema/transaction_direct_reader.h"

#include "pipeline/schema/transaction_rules.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace vigil::pipeline {
namespace {

// A position in the text. Every read returns false on anything it does not
// handle; the whole read is then abandoned.
class cursor {
 public:
  explicit cursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }
  bool at_end() const { return p_ == end_; }
  /// Skips white space, then takes `c` if it is next.
  bool take(char c) {
    skip_space();
    if (p_ == end_ || *p_ != c)
      return false;
    ++p_;
    return true;
  }
  bool peek(char c) {
    skip_space();
    return p_ != end_ && *p_ == c;
  }
  /// A string of printable ASCII without escapes.
  bool string(std::string_view& out) {
    if (!take('"'))
      return false;
    const char* start = p_;
    while (p_ != end_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x7f)
        return false;
      ++p_;
    }
    return false;
  }
  /// A JSON number, converted as the tree reader converts it (correctly
  /// rounded); "-0" is left to it, since it reads that integer as +0.
  bool number(double& out) {
    skip_space();
    const char* start = p_;
    bool integer = true;
    if (p_ != end_ && *p_ == '-')
      ++p_;
    if (p_ == end_)
      return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9')
        ++p_;
    } else {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (!digits())
        return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-'))
        ++p_;
      if (!digits())
        return false;
    }
    if (p_ - start > 40)
      return false;
    auto r = std::from_chars(start, p_, out);
    if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(out))
      return false;
    return !(integer && out == 0 && *start == '-');
  }
  bool boolean(bool& out) {
    skip_space();
    if (end_ - p_ >= 4 && std::string_view(p_, 4) == "true") {
      p_ += 4;
      out = true;
      return true;
    }
    if (end_ - p_ >= 5 && std::string_view(p_, 5) == "false") {
      p_ += 5;
      out = false;
      return true;
    }
    return false;
  }

 private:
  bool digits() {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9')
      ++p_;
    return p_ != start;
  }

  const char* p_;
  const char* end_;
};

// Reads the members of one object: `member(key)` reads the value of each
// key, once; a key seen twice or refused by `member` abandons the read.
template <class Member>
bool read_object(cursor& in, Member member) {
  if (!in.take('{'))
    return false;
  if (in.take('}'))
    return true;
  do {
    std::string_view key;
    if (!in.string(key) || !in.take(':') || !member(key))
      return false;
  } while (in.take(','));
  return in.take('}');
}

// Members seen so far in one object, one bit each.
class seen_members {
 public:
  /// False when `bit` was seen already.
  bool first(int bit) {
    auto mask = std::uint32_t{1} << bit;
    if (seen_ & mask)
      return false;
    seen_ |= mask;
    return true;
  }
  bool has(int bit) const { return seen_ & (std::uint32_t{1} << bit); }

 private:
  std::uint32_t seen_ = 0;
};

bool text_field(cursor& in, std::string& out, bool required, std::size_t max_bytes) {
  std::string_view s;
  if (!in.string(s) || rules::text_problem(s, required, max_bytes))
    return false;
  out.assign(s);
  return true;
}

bool read_merchant(cursor& in, transaction& tx) {
  seen_members seen;
  bool ok = read_object(in, [&](std::string_view key) {
    if (key == "id")
      return seen.first(0) && text_field(in, tx.merchant_id, true, max_id_bytes);
    if (key == "name")
      return seen.first(1) && text_field(in, tx.merchant_name, false, max_name_bytes);
    if (key == "category")
      return seen.first(2) && text_field(in, tx.merchant_category, true, max_id_bytes);
    return false;
  });
  return ok && seen.has(0) && seen.has(2);
}

bool read_location(cursor& in, transaction& tx) {
  seen_members seen;
  double lat = 0, lon = 0;
  bool ok = read_object(in, [&](std::string_view key) {
    if (key == "country")
      return seen.first(0) && text_field(in, tx.country, true, max_id_bytes);
    if (key == "lat")
      return seen.first(1) && in.number(lat) && rules::latitude_in_range(lat);
    if (key == "lon")
      return seen.first(2) && in.number(lon) && rules::longitude_in_range(lon);
    return false;
  });
  if (!ok || !seen.has(0) || seen.has(1) != seen.has(2))
    return false;
  if (seen.has(1)) {
    tx.latitude = lat;
    tx.longitude = lon;
  }
  return true;
}

struct label_text {
  transaction_label label;
  std::string_view label_time;
};

bool read_label(cursor& in, label_text& out) {
  seen_members seen;
  bool ok = read_object(in, [&](std::string_view key) {
    if (key == "is_fraud")
      return seen.first(0) && in.boolean(out.label.is_fraud);
    if (key == "pattern")
      return seen.first(1) && text_field(in, out.label.pattern, false, max_id_bytes);
    if (key == "label_time")
      return seen.first(2) && in.string(out.label_time) && !rules::text_problem(out.label_time, false, max_id_bytes);
    return false;
  });
  return ok && seen.has(0);
}

enum member : int {
  m_transaction_id, m_user_id, m_amount, m_currency, m_merchant, m_merchant_id, m_merchant_name,
  m_merchant_category, m_timestamp, m_location, m_country, m_device_id, m_channel, m_label
};

bool read_transaction(cursor& in, unknown_fields unknown, labelled_transaction& out) {
  auto& tx = out.tx;
  seen_members seen;
  std::string_view timestamp;
  label_text label;
  bool ok = read_object(in, [&](std::string_view key) {
    switch (key.size() ? key[0] : 0) {
      case 'a':
        return key == "amount" && seen.first(m_amount) && in.number(tx.amount) && !rules::amount_problem(tx.amount);
      case 'c':
        if (key == "currency")
          return seen.first(m_currency) && text_field(in, tx.currency, true, max_id_bytes) &&
                 rules::is_upper_code(tx.currency, 3);
        if (key == "country")
          return seen.first(m_country) && text_field(in, tx.country, true, max_id_bytes);
        return key == "channel" && seen.first(m_channel) && text_field(in, tx.channel, false, max_id_bytes) &&
               (tx.channel.empty() || rules::channel_known(tx.channel));
      case 'd':
        return key == "device_id" && seen.first(m_device_id) && text_field(in, tx.device_id, false, max_id_bytes);
      case 'l':
        if (key == "location")
          return seen.first(m_location) && read_location(in, tx);
        return key == "label" && unknown == unknown_fields::allow && seen.first(m_label) && read_label(in, label);
      case 'm':
        if (key == "merchant")
          return seen.first(m_merchant) && read_merchant(in, tx);
        if (key == "merchant_id")
          return seen.first(m_merchant_id) && text_field(in, tx.merchant_id, true, max_id_bytes);
        if (key == "merchant_name")
          return seen.first(m_merchant_name) && text_field(in, tx.merchant_name, false, max_name_bytes);
        return key == "merchant_category" && seen.first(m_merchant_category) &&
               text_field(in, tx.merchant_category, true, max_id_bytes);
      case 't':
        if (key == "transaction_id")
          return seen.first(m_transaction_id) && text_field(in, tx.transaction_id, true, max_id_bytes);
        return key == "timestamp" && seen.first(m_timestamp) && in.string(timestamp) &&
               !rules::text_problem(timestamp, true, max_id_bytes);
      case 'u':
        return key == "user_id" && seen.first(m_user_id) && text_field(in, tx.user_id, true, max_id_bytes);
      default:
        return false;
    }
  });
  if (!ok)
    return false;
  // Nested and flat forms of one thing together are left to the tree
  // reader (it reads the nested one).
  bool merchant_flat = seen.has(m_merchant_id) || seen.has(m_merchant_name) || seen.has(m_merchant_category);
  if (seen.has(m_merchant) ? merchant_flat : !(seen.has(m_merchant_id) && seen.has(m_merchant_category)))
    return false;
  if (seen.has(m_location) ? seen.has(m_country) : !seen.has(m_country))
    return false;
  if (!rules::is_upper_code(tx.country, 2))
    return false;
  if (!seen.has(m_transaction_id) || !seen.has(m_user_id) || !seen.has(m_amount) || !seen.has(m_currency) ||
      !seen.has(m_timestamp))
    return false;
  auto time = parse_iso8601_ms(timestamp);
  if (!time)
    return false;
  tx.event_time_ms = *time;
  if (seen.has(m_label)) {
    if (label.label_time.empty()) {
      label.label.label_time_ms = label_time_unknown;
    } else if (auto ms = parse_iso8601_ms(label.label_time)) {
      label.label.label_time_ms = *ms;
    } else {
      return false;
    }
    out.label = std::move(label.label);
  }
  return true;
}

} // namespace

std::optional<direct_read> read_transactions_directly(std::string_view text, unknown_fields unknown,
                                                      std::size_t max_items) {
  cursor in(text);
  direct_read out;
  if (in.peek('[')) {
    if (max_items == 0)
      return std::nullopt;
    in.take('[');
    out.array = true;
    do {
      if (out.items.size() == max_items || !read_transaction(in, unknown, out.items.emplace_back()))
        return std::nullopt;
    } while (in.take(','));
    if (!in.take(']'))
      return std::nullopt;
  } else if (!read_transaction(in, unknown, out.items.emplace_back())) {
    return std::nullopt;
  }
  in.skip_space();
  if (!in.at_end())
    return std::nullopt;
  return out;
}

} // namespace vigil::pipeline
