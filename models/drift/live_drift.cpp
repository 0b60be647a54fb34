#include "models/drift/live_drift.h"

#include "pipeline/features/feature_schema.h"

#include <nlohmann/json.hpp>

#include <emmintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

namespace vigil::models {

double drift_psi(const distribution_profile& reference, const std::vector<double>& live_shares,
                 double live_missing_share) {
  std::vector<double> expected, actual;
  for (std::size_t b = 0; b < reference.shares.size(); ++b) {
    expected.push_back(reference.shares[b] * (1 - reference.missing_share));
    actual.push_back(live_shares[b] * (1 - live_missing_share));
  }
  expected.push_back(reference.missing_share);
  actual.push_back(live_missing_share);
  return population_stability_index(expected, actual);
}

const variable_drift* window_drift::most_drifted() const {
  const variable_drift* top = nullptr;
  for (const auto& f : features)
    if (!top || f.psi > top->psi)
      top = &f;
  return top;
}

void add_share(drift_counts& totals, const drift_counts& share) {
  if (totals.empty()) {
    totals.model_version = share.model_version;
    totals.counters = share.counters;
    totals.oldest_event_ms = share.oldest_event_ms;
    totals.newest_event_ms = share.newest_event_ms;
  }
  totals.oldest_event_ms = std::min(totals.oldest_event_ms, share.oldest_event_ms);
  totals.newest_event_ms = std::max(totals.newest_event_ms, share.newest_event_ms);
  auto add_to = [&](std::vector<drift_bucket_counts>& buckets, std::int64_t id, const drift_bucket_counts& from) {
    auto at = std::find_if(buckets.begin(), buckets.end(), [&](const auto& b) { return b.id == id; });
    if (at == buckets.end())
      at = buckets.insert(buckets.end(), {id, 0, std::vector<std::uint64_t>(totals.counters, 0)});
    at->rows += from.rows;
    for (std::size_t i = 0; i < at->counts.size() && i < from.counts.size(); ++i)
      at->counts[i] += from.counts[i];
  };
  constexpr auto minutes_a_day = drift_tracker::day_bucket_ms / drift_tracker::minute_bucket_ms;
  for (const auto& b : share.minute_buckets) {
    add_to(totals.minute_buckets, b.id, b);
    add_to(totals.day_buckets, b.id / minutes_a_day, b);
  }
  for (const auto& b : share.day_buckets)
    add_to(totals.day_buckets, b.id, b);
}

const std::vector<std::string>& drift_windows() {
  static const std::vector<std::string> names{"1h", "24h", "7d", "30d"};
  return names;
}

drift_tracker::drift_tracker(unsigned sample_every, bool shares_counts)
    : sample_every_(std::max(1u, sample_every)), shares_counts_(shares_counts) {
  minutes_.bucket_ms = minute_bucket_ms;
  minutes_.buckets.resize(144);
  days_.bucket_ms = day_bucket_ms;
  days_.buckets.resize(31);
  if (shares_counts_) {
    minutes_.retired_unshared = &retired_minutes_;
    days_.retired_unshared = &retired_days_;
  }
}

void drift_tracker::reset(const scoring_model& model) {
  if (shares_counts_ && reference_)
    set_aside_unshared();  // the outgoing model's last counts still go out
  version_ = model.version;
  reference_ = model.reference;
  reference_problem_ = model.reference_problem;
  variables_.clear();
  oldest_event_ms_ = newest_event_ms_ = 0;
  newest_day_end_ms_ = std::numeric_limits<std::int64_t>::min();
  counted_any_ = false;
  for (ring* r : {&minutes_, &days_}) {
    r->newest_id = -1;
    r->last = nullptr;
    for (auto& b : r->buckets)
      b = bucket{};
  }
  if (!reference_)
    return;
  const auto& names = pipeline::feature_names();
  auto bins_of = [](const distribution_profile& p, std::size_t index) {
    variable_bins v;
    v.edges.fill(std::numeric_limits<float>::infinity());
    // A reference with more edges than fit keeps every 2nd, 3rd... edge.
    std::size_t step = (p.upper_edges.size() + max_edges - 1) / max_edges;
    for (std::size_t e = 0, k = 0; step && e < p.upper_edges.size() && k < max_edges; e += step, ++k)
      v.edges[k] = static_cast<float>(p.upper_edges[e]);
    v.feature_index = index;
    return v;
  };
  for (std::size_t f = 0; f < reference_->feature_names.size(); ++f) {
    auto at = std::find(names.begin(), names.end(), reference_->feature_names[f]);
    variables_.push_back(bins_of(reference_->features[f], static_cast<std::size_t>(at - names.begin())));
  }
  variables_.push_back(bins_of(reference_->score, 0));
  slots_of_.assign(variables_.size(), 0);
}

std::optional<drift_bucket_counts> drift_tracker::bucket::unshared() const {
  if (rows == shared_rows)
    return std::nullopt;
  drift_bucket_counts fresh{id, rows - shared_rows, std::vector<std::uint64_t>(counts.size())};
  for (std::size_t i = 0; i < counts.size(); ++i)
    fresh.counts[i] = counts[i] - shared[i];
  return fresh;
}

drift_tracker::bucket* drift_tracker::ring::bucket_for(std::int64_t event_ms, std::size_t counters,
                                                      ring* fold_into) {
  if (last && event_ms >= last_from_ms && event_ms < last_to_ms && last->id >= 0)
    return last;
  const std::int64_t id = event_ms / bucket_ms;
  if (id <= newest_id - static_cast<std::int64_t>(buckets.size()))
    return nullptr;  // older than every bucket kept
  newest_id = std::max(newest_id, id);
  auto& b = buckets[static_cast<std::size_t>(id) % buckets.size()];
  if (b.id != id) {
    if (retired_unshared && b.id >= 0)
      if (auto left = b.unshared())
        retired_unshared->push_back(std::move(*left));
    if (fold_into && b.id >= 0 && b.rows > 0)
      if (bucket* into = fold_into->bucket_for(b.id * bucket_ms, counters)) {
        into->rows += b.rows;
        for (std::size_t i = 0; i < counters; ++i)
          into->counts[i] += b.counts[i];
        if (retired_unshared) {  // shared with this bucket, just now if not before
          into->shared_rows += b.rows;
          for (std::size_t i = 0; i < counters; ++i)
            into->shared[i] += b.counts[i];
        }
      }
    b.id = id;
    b.counts.assign(counters, 0);
    b.rows = 0;
    if (retired_unshared) {
      b.shared.assign(counters, 0);
      b.shared_rows = 0;
    }
  }
  last = &b;
  last_from_ms = id * bucket_ms;
  last_to_ms = last_from_ms + bucket_ms;
  return &b;
}

void drift_tracker::add(const decision_batch& decisions, const scoring_model& model) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (model.version != version_ || model.reference != reference_)
    reset(model);
  if (!reference_)
    return;
  const std::size_t features = variables_.size() - 1;
  const std::size_t counters = variables_.size() * slots;
  // The edges below v are a prefix of the sorted edges: four SSE compares
  // give its mask, and the first clear bit its length.
  auto slot_of = [&](std::size_t variable, float v) -> std::uint8_t {
    if (std::isnan(v))
      return slots - 1;  // missing
    const float* edges = variables_[variable].edges.data();
    const __m128 value = _mm_set1_ps(v);
    unsigned mask = 0;
    for (int q = 0; q < 4; ++q)
      mask |= static_cast<unsigned>(_mm_movemask_ps(_mm_cmplt_ps(_mm_loadu_ps(edges + 4 * q), value))) << (4 * q);
    return static_cast<std::uint8_t>(__builtin_ctz(~mask));
  };
  for (const auto& d : decisions) {
    if (d.shadow || d.event_time_ms < 0)
      continue;
    if (sample_every_ > 1 && sample_phase_++ % sample_every_ != 0)
      continue;
    for (std::size_t f = 0; f < features; ++f) {
      const std::size_t index = variables_[f].feature_index;
      slots_of_[f] = slot_of(f, index < d.features.size() ? d.features[index] : std::numeric_limits<float>::quiet_NaN());
    }
    slots_of_[features] = slot_of(features, static_cast<float>(d.probability));
    if (d.event_time_ms >= newest_day_end_ms_) {  // a new day: older days' buckets may go
      days_.newest_id = std::max(days_.newest_id, d.event_time_ms / days_.bucket_ms);
      newest_day_end_ms_ = (days_.newest_id + 1) * days_.bucket_ms;
    }
    bucket* b = minutes_.bucket_for(d.event_time_ms, counters, &days_);
    if (!b)
      b = days_.bucket_for(d.event_time_ms, counters);
    const bool counted = b != nullptr;
    if (b) {
      ++b->rows;
      for (std::size_t v = 0; v < variables_.size(); ++v)
        ++b->counts[v * slots + slots_of_[v]];
    }
    if (counted && !counted_any_) {
      oldest_event_ms_ = newest_event_ms_ = d.event_time_ms;
      counted_any_ = true;
    } else if (counted) {
      oldest_event_ms_ = std::min(oldest_event_ms_, d.event_time_ms);
      newest_event_ms_ = std::max(newest_event_ms_, d.event_time_ms);
    }
  }
}

const std::vector<drift_tracker::window_spec>& drift_tracker::window_specs() {
  constexpr std::int64_t hour = 3600'000;
  static const std::vector<window_spec> specs{
    {"1h", false, 6, hour}, {"24h", false, 144, 24 * hour}, {"7d", true, 7, 7 * 24 * hour},
    {"30d", true, 30, 30 * 24 * hour}};
  return specs;
}

window_drift drift_tracker::window(const window_spec& spec) const {
  const ring& r = spec.days ? days_ : minutes_;
  std::vector<std::uint64_t> totals(variables_.size() * slots, 0);
  std::int64_t rows = 0;
  auto in_window = [&](std::int64_t id) { return id >= 0 && id <= r.newest_id && id > r.newest_id - spec.buckets; };
  auto add = [&](const bucket& b) {
    rows += b.rows;
    for (std::size_t i = 0; i < totals.size(); ++i)
      totals[i] += b.counts[i];
  };
  for (const auto& b : r.buckets)
    if (in_window(b.id))
      add(b);
  if (spec.days)  // with the 10-minute buckets not yet joined to their day
    for (const auto& b : minutes_.buckets)
      if (b.id >= 0 && in_window(b.id * minutes_.bucket_ms / days_.bucket_ms))
        add(b);
  return window_of(spec, rows, newest_event_ms_ - oldest_event_ms_ >= spec.span_ms, totals);
}

window_drift drift_tracker::window_of(const window_spec& spec, std::int64_t rows, bool complete,
                                      const std::vector<std::uint64_t>& totals) const {
  window_drift w;
  w.window = spec.name;
  w.rows = rows;
  w.complete = complete;
  auto drift_of = [&](std::size_t variable, const std::string& var_name, const distribution_profile& ref) {
    variable_drift v;
    v.name = var_name;
    v.upper_edges = ref.upper_edges;
    v.reference_shares = ref.shares;
    v.reference_missing_share = ref.missing_share;
    const std::uint64_t* c = &totals[variable * slots];
    std::uint64_t present = 0;
    for (std::size_t s = 0; s + 1 < slots; ++s)
      present += c[s];
    const std::uint64_t all = present + c[slots - 1];
    // Counts were taken in at most max_edges + 1 bins; a reference with more
    // bins is compared in those (its shares merged the same way).
    const std::size_t edges = ref.upper_edges.size();
    const std::size_t step = (edges + max_edges - 1) / max_edges;
    const std::size_t bins = (step ? (edges + step - 1) / step : 0) + 1;
    distribution_profile merged;
    merged.missing_share = ref.missing_share;
    merged.shares.assign(bins, 0.0);
    for (std::size_t b = 0; b < ref.bins(); ++b)
      merged.shares[std::min(bins - 1, step ? (b + step - 1) / step : 0)] += ref.shares[b];
    for (std::size_t b = 0; b < bins; ++b)
      v.shares.push_back(present ? static_cast<double>(c[b]) / static_cast<double>(present) : 0.0);
    v.missing_share = all ? static_cast<double>(c[slots - 1]) / static_cast<double>(all) : 0.0;
    v.psi = all ? drift_psi(merged, v.shares, v.missing_share) : 0.0;
    if (bins != ref.bins()) {  // report the bins compared: the kept edges
      v.reference_shares = merged.shares;
      v.upper_edges.clear();
      for (std::size_t e = 0; e < edges; e += step)
        v.upper_edges.push_back(ref.upper_edges[e]);
    }
    return v;
  };
  for (std::size_t f = 0; f + 1 < variables_.size(); ++f)
    w.features.push_back(drift_of(f, reference_->feature_names[f], reference_->features[f]));
  w.score = drift_of(variables_.size() - 1, "score", reference_->score);
  return w;
}

drift_report drift_tracker::report_header() const {
  drift_report r;
  r.model_version = version_;
  r.sample_every = sample_every_;
  r.has_reference = reference_ != nullptr;
  r.status = version_ == 0         ? "nothing scored yet"
             : reference_           ? "tracking"
             : reference_problem_.empty() ? "no reference"
                                          : reference_problem_;
  return r;
}

drift_report drift_tracker::report() const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto r = report_header();
  r.newest_event_ms = minutes_.newest_id < 0 ? 0 : (minutes_.newest_id + 1) * minutes_.bucket_ms;
  if (!reference_)
    return r;
  for (const auto& spec : window_specs())
    r.windows.push_back(window(spec));
  return r;
}

void drift_tracker::set_aside_unshared() {
  drift_counts share;
  share.model_version = version_;
  share.oldest_event_ms = oldest_event_ms_;
  share.newest_event_ms = newest_event_ms_;
  share.counters = variables_.size() * slots;
  auto collect = [](ring& r, std::vector<drift_bucket_counts>& retired, std::vector<drift_bucket_counts>& into) {
    into = std::move(retired);
    retired.clear();
    for (auto& b : r.buckets)
      if (b.id >= 0)
        if (auto fresh = b.unshared()) {
          into.push_back(std::move(*fresh));
          b.shared = b.counts;
          b.shared_rows = b.rows;
        }
  };
  // A retired 10-minute bucket is at least a day behind the newest event,
  // so the cluster's totals read it only in its day (report_of): it goes
  // out as counts of its day. A replay that crosses weeks of event time in
  // seconds retires every 10-minute bucket many times over: sent as such,
  // they made the cluster stream bench's Redis commands a transaction
  // three times what they are with days (0.60 against 0.19, see README).
  auto retired = std::exchange(retired_minutes_, {});
  collect(minutes_, retired_minutes_, share.minute_buckets);
  collect(days_, retired_days_, share.day_buckets);
  constexpr auto minutes_a_day = day_bucket_ms / minute_bucket_ms;
  std::map<std::int64_t, drift_bucket_counts> by_day;
  for (auto& b : retired) {
    auto& day = by_day[b.id / minutes_a_day];
    if (day.counts.empty()) {
      day.id = b.id / minutes_a_day;
      day.counts.assign(share.counters, 0);
    }
    day.rows += b.rows;
    for (std::size_t i = 0; i < day.counts.size() && i < b.counts.size(); ++i)
      day.counts[i] += b.counts[i];
  }
  for (auto& [id, day] : by_day)
    share.day_buckets.push_back(std::move(day));
  if (!share.empty())
    pending_shares_.push_back(std::move(share));
}

std::vector<drift_counts> drift_tracker::take_unshared() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shares_counts_ && reference_)
    set_aside_unshared();
  auto taken = std::move(pending_shares_);
  pending_shares_.clear();
  return taken;
}

int drift_tracker::model_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

std::size_t drift_tracker::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reference_ ? variables_.size() * slots : 0;
}

std::optional<drift_report> drift_tracker::report_of(const drift_counts& totals) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reference_ || totals.model_version != version_ || totals.counters != variables_.size() * slots)
    return std::nullopt;
  auto r = report_header();
  r.scope = "cluster";
  const bool counted = !totals.empty();
  const std::int64_t newest_minute = counted ? totals.newest_event_ms / minute_bucket_ms : -1;
  const std::int64_t newest_day = counted ? totals.newest_event_ms / day_bucket_ms : -1;
  r.newest_event_ms = counted ? (newest_minute + 1) * minute_bucket_ms : 0;
  for (const auto& spec : window_specs()) {
    // The cluster's day buckets hold all of their events.
    const std::int64_t newest = spec.days ? newest_day : newest_minute;
    std::vector<std::uint64_t> sums(totals.counters, 0);
    std::int64_t rows = 0;
    for (const auto& b : spec.days ? totals.day_buckets : totals.minute_buckets)
      if (b.id >= 0 && b.id <= newest && b.id > newest - spec.buckets && b.counts.size() == sums.size()) {
        rows += b.rows;
        for (std::size_t i = 0; i < sums.size(); ++i)
          sums[i] += b.counts[i];
      }
    const bool complete = counted && totals.newest_event_ms - totals.oldest_event_ms >= spec.span_ms;
    r.windows.push_back(window_of(spec, rows, complete, sums));
  }
  return r;
}

nlohmann::json to_json(const drift_report& r) {
  if (!r.has_reference)
    return {{"model_version", r.model_version}, {"reference", nullptr}, {"status", r.status}, {"scope", r.scope}};
  auto variable = [](const variable_drift& v) {
    return nlohmann::json{{"name", v.name},
                          {"psi", v.psi},
                          {"missing_share", v.missing_share},
                          {"reference_missing_share", v.reference_missing_share},
                          {"shares", v.shares},
                          {"reference_shares", v.reference_shares},
                          {"upper_edges", v.upper_edges}};
  };
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : r.windows) {
    // Features ranked by drift, the largest first.
    std::vector<const variable_drift*> ranked;
    for (const auto& f : w.features)
      ranked.push_back(&f);
    std::stable_sort(ranked.begin(), ranked.end(), [](auto a, auto b) { return a->psi > b->psi; });
    nlohmann::json features = nlohmann::json::array();
    for (auto f : ranked)
      features.push_back(variable(*f));
    windows.push_back({{"window", w.window}, {"rows", w.rows}, {"complete", w.complete},
                       {"score", variable(w.score)}, {"features", features}});
  }
  return {{"model_version", r.model_version}, {"reference", "training slice"}, {"status", r.status},
          {"scope", r.scope},
          {"sample_every", r.sample_every},
          {"newest_event_ms", r.newest_event_ms}, {"windows", windows}};
}

} // namespace vigil::models
