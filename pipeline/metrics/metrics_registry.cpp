#include "pipeline/metrics/metrics_registry.h"

#include <cstdio>
#include <sstream>

namespace vigil::pipeline {
namespace {

// "name{labels}" -> ("name", "labels")
std::pair<std::string, std::string> split_name(const std::string& full) {
  auto brace = full.find('{');
  if (brace == std::string::npos)
    return {full, ""};
  return {full.substr(0, brace), full.substr(brace + 1, full.size() - brace - 2)};
}

std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void atomic_add(std::atomic<double>& target, double v) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

} // namespace

constexpr std::array<double, 16> histogram::bounds;

void histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, seconds);
}

std::array<std::uint64_t, histogram::bounds.size() + 1> histogram::bucket_counts() const {
  std::array<std::uint64_t, bounds.size() + 1> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double histogram::quantile(double q) const {
  std::uint64_t total = count();
  if (total == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(q * total);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen > rank)
      return i < bounds.size() ? bounds[i] : bounds.back();
  }
  return bounds.back();
}

std::string histogram::render(const std::string& name, const std::string& labels) const {
  std::ostringstream out;
  std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < bounds.size() ? format_double(bounds[i]) : "+Inf";
    out << name << "_bucket{" << labels << sep << "le=\"" << le << "\"} " << cumulative << "\n";
  }
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out << name << "_sum" << braces << " " << format_double(sum_.load()) << "\n";
  out << name << "_count" << braces << " " << count() << "\n";
  return out.str();
}

template <class Metric>
Metric& metrics_registry::get(std::unique_ptr<Metric> entry::*slot, const std::string& name,
                              const std::string& help, const char* type) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& e = entries_[name];
  if (!(e.*slot)) {
    e.*slot = std::make_unique<Metric>();
    e.help = help;
    e.type = type;
  }
  return *(e.*slot);
}

double metrics_registry::value_of(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end())
    return 0;
  if (it->second.c)
    return static_cast<double>(it->second.c->value());
  return it->second.g ? it->second.g->value() : 0;
}

std::array<std::uint64_t, histogram::bounds.size() + 1> metrics_registry::buckets_of(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.h)
    return {};
  return it->second.h->bucket_counts();
}

counter& metrics_registry::get_counter(const std::string& name, const std::string& help) {
  return get(&entry::c, name, help, "counter");
}

gauge& metrics_registry::get_gauge(const std::string& name, const std::string& help) {
  return get(&entry::g, name, help, "gauge");
}

histogram& metrics_registry::get_histogram(const std::string& name, const std::string& help) {
  return get(&entry::h, name, help, "histogram");
}

std::string metrics_registry::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  std::string last_family;
  for (const auto& [full, e] : entries_) {
    auto [family, labels] = split_name(full);
    if (family != last_family) {
      out << "# HELP " << family << " " << e.help << "\n# TYPE " << family << " " << e.type << "\n";
      last_family = family;
    }
    if (e.c)
      out << full << " " << e.c->value() << "\n";
    else if (e.g)
      out << full << " " << format_double(e.g->value()) << "\n";
    else if (e.h)
      out << e.h->render(family, labels);
  }
  return out.str();
}

metrics_registry& metrics() {
  static metrics_registry registry;
  return registry;
}

} // namespace vigil::pipeline
