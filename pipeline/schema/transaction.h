#pragma once
// The payment transaction as Vigil sees it, on every path: Kafka, /predict,
// the simulator and training files.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace vigil::pipeline {

/// One payment. Times are event time, milliseconds since the Unix epoch (UTC).
struct transaction {
  std::string transaction_id;
  std::string user_id;
  double amount = 0;              ///< in `currency` units, >= 0
  std::string currency;           ///< ISO-4217 code, 3 upper-case letters
  std::string merchant_id;
  std::string merchant_name;      ///< optional, empty when absent
  std::string merchant_category;  ///< optional, empty when absent (category_code missing)
  std::int64_t event_time_ms = 0;
  std::string country;            ///< optional ISO-3166 alpha-2, upper case; empty when absent
  std::optional<double> latitude;   ///< degrees, [-90, 90]
  std::optional<double> longitude;  ///< degrees, [-180, 180]
  std::string device_id;          ///< optional, empty when absent
  std::string channel;            ///< optional: "pos", "online", "atm", "mobile"
};

/// label_time_ms of a label read without a time: a file reader derives it
/// from a stated delay or refuses the line (a label is never known at its
/// transaction's own instant by default: that would leak it into features).
constexpr std::int64_t label_time_unknown = std::numeric_limits<std::int64_t>::min();

/// Ground truth the simulator attaches to a transaction. Never a feature:
/// training reads it as the label, serving never sees it.
struct transaction_label {
  bool is_fraud = false;          ///< the label as observed (after noise)
  std::string pattern;            ///< true pattern ("" for legitimate)
  std::int64_t label_time_ms = 0; ///< when the label becomes known (delay)
};

/// A transaction plus the simulator's label, as in a training file.
struct labelled_transaction {
  transaction tx;
  std::optional<transaction_label> label;
};

} // namespace vigil::pipeline
