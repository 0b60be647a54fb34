#include "actors/cli/command_line.h"

namespace vigil::cli {

command_line::command_line(const std::vector<std::string>& args,
                           const std::set<std::string>& value_options,
                           const std::set<std::string>& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    auto eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.count(name)) {
      values_[name] = "1";
    } else if (value_options.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size())
          throw usage_error("option --" + name + " needs a value");
        value = args[++i];
      }
      values_[name] = value;
    } else {
      throw usage_error("unknown option --" + name);
    }
  }
}

bool command_line::has(const std::string& name) const { return values_.count(name) > 0; }

std::string command_line::text(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

long long command_line::integer(const std::string& name, long long fallback) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return fallback;
  try {
    std::size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size())
      return v;
  } catch (const std::exception&) {
  }
  throw usage_error("option --" + name + " needs an integer, got '" + it->second + "'");
}

double command_line::number(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return fallback;
  try {
    std::size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used == it->second.size())
      return v;
  } catch (const std::exception&) {
  }
  throw usage_error("option --" + name + " needs a number, got '" + it->second + "'");
}

} // namespace vigil::cli
