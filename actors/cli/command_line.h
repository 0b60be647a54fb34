#pragma once
// A small "--name value" / "--flag" parser shared by every subcommand.

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::cli {

/// Thrown for an unknown option, a missing value or a malformed number.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class command_line {
 public:
  /// `value_options` take a value; `flags` do not. Anything else starting
  /// with "--" is an error; other words are positional.
  command_line(const std::vector<std::string>& args,
               const std::set<std::string>& value_options,
               const std::set<std::string>& flags);

  bool has(const std::string& name) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  long long integer(const std::string& name, long long fallback) const;
  double number(const std::string& name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

} // namespace vigil::cli
