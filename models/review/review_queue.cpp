#include "models/review/review_queue.h"

#include "models/serving/decision_json.h"
#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

namespace vigil::models {
namespace {

constexpr std::size_t max_listed = 500;

nlohmann::json label_json(const std::optional<pipeline::label_event>& l) {
  if (!l)
    return nullptr;
  return {{"is_fraud", l->is_fraud}, {"source", l->source},
          {"label_time", pipeline::format_iso8601_ms(l->label_time_ms)}};
}

// A number the browser can read: NaN (a missing feature) as null.
nlohmann::json number_or_null(double v) {
  return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
}

} // namespace

review_queue::review_queue(review_limits limits) : limits_(limits), users_(limits.users) {}

void review_queue::add(const decision_batch& batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& d : batch) {
    if (d.shadow)
      continue;
    if (limits_.users > 0 && limits_.per_user > 0)
      remember(d);
    if (d.decision == decision_kind::approve || limits_.items == 0)
      continue;
    // A transaction scored again (a replay after a crash) keeps its place
    // and its label.
    if (auto it = number_of_.find(d.transaction_id); it != number_of_.end()) {
      items_[it->second - items_.front().number].decision = d;
      continue;
    }
    items_.push_back({next_number_++, d, std::nullopt});
    number_of_[d.transaction_id] = items_.back().number;
    while (items_.size() > limits_.items) {
      number_of_.erase(items_.front().decision.transaction_id);
      items_.pop_front();
    }
  }
}

void review_queue::remember(const decision_record& d) {
  const auto id_hash = std::hash<std::string>{}(d.user_id);
  auto& h = users_[id_hash % users_.size()];
  if (h.id_hash != id_hash || h.user_id != d.user_id) {
    h.id_hash = id_hash;
    h.user_id = d.user_id;
    h.ring.clear();
    h.next = 0;
  }
  if (h.ring.size() < limits_.per_user)
    h.ring.emplace_back();
  auto& slot = h.ring[h.next];
  h.next = (h.next + 1) % limits_.per_user;
  slot.transaction_id = d.transaction_id;
  slot.merchant_id = d.merchant_id;
  slot.event_time_ms = d.event_time_ms;
  slot.probability = d.probability;
  slot.decision = d.decision;
  slot.features = d.features;
}

const review_queue::queued* review_queue::find(const std::string& transaction_id) const {
  auto it = number_of_.find(transaction_id);
  if (it == number_of_.end() || items_.empty())
    return nullptr;
  return &items_[it->second - items_.front().number];
}

std::size_t review_queue::label(const std::vector<pipeline::label_event>& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t matched = 0;
  for (const auto& l : labels) {
    auto it = number_of_.find(l.transaction_id);
    if (it == number_of_.end())
      continue;
    items_[it->second - items_.front().number].label = l;
    ++matched;
  }
  return matched;
}

bool review_queue::matches(const queued& q, const review_filter& f) {
  const auto& d = q.decision;
  if (f.decision && d.decision != *f.decision)
    return false;
  if (d.probability < f.min_score || d.probability > f.max_score)
    return false;
  if ((!f.user_id.empty() && d.user_id != f.user_id) || (!f.merchant_id.empty() && d.merchant_id != f.merchant_id))
    return false;
  if (!f.rule_id.empty() &&
      std::none_of(d.rule_hits.begin(), d.rule_hits.end(), [&](const auto& h) { return h.id == f.rule_id; }))
    return false;
  if (f.status == "open")
    return !q.label;
  if (f.status == "fraud" || f.status == "legitimate")
    return q.label && q.label->is_fraud == (f.status == "fraud");
  return true;
}

nlohmann::json review_queue::list(const review_filter& filter) const {
  const auto limit = std::clamp<std::size_t>(filter.limit, 1, max_listed);
  std::lock_guard<std::mutex> lock(mutex_);
  auto items = nlohmann::json::array();
  std::size_t matching = 0;
  std::uint64_t last_listed = 0;
  bool more = false;
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (!matches(*it, filter))
      continue;
    ++matching;
    if (filter.before && it->number >= filter.before)
      continue;
    if (items.size() == limit) {
      more = true;
      continue;
    }
    auto j = decision_to_json(it->decision, false);
    j["number"] = it->number;
    j["label"] = label_json(it->label);
    items.push_back(std::move(j));
    last_listed = it->number;
  }
  return {{"items", std::move(items)}, {"matching", matching}, {"queued", items_.size()},
          {"capacity", limits_.items}, {"next_before", more ? nlohmann::json(last_listed) : nlohmann::json(nullptr)}};
}

std::optional<nlohmann::json> review_queue::detail(const std::string& transaction_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto* q = find(transaction_id);
  if (!q)
    return std::nullopt;
  const auto& d = q->decision;
  auto item = decision_to_json(d, true);
  item["number"] = q->number;
  item["label"] = label_json(q->label);

  // The user's other recent decisions: their history and typical values.
  std::vector<const recent_decision*> others;
  const auto* u = users_.empty() ? nullptr : &users_[std::hash<std::string>{}(d.user_id) % users_.size()];
  if (u && u->user_id == d.user_id)
    u->each([&](const recent_decision& r) {
      if (r.transaction_id != d.transaction_id)
        others.push_back(&r);
    });
  auto history = nlohmann::json::array();
  for (auto it = others.rbegin(); it != others.rend(); ++it)
    history.push_back({{"transaction_id", (*it)->transaction_id}, {"merchant_id", (*it)->merchant_id},
                       {"event_time", pipeline::format_iso8601_ms((*it)->event_time_ms)},
                       {"probability", (*it)->probability}, {"decision", to_string((*it)->decision)}});
  auto features = nlohmann::json::array();
  const auto& names = pipeline::feature_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::vector<float> seen;
    for (const auto* r : others)
      if (!std::isnan(r->features[i]))
        seen.push_back(r->features[i]);
    double typical = std::nan("");
    if (!seen.empty()) {
      std::sort(seen.begin(), seen.end());
      auto n = seen.size();
      typical = n % 2 ? seen[n / 2] : (static_cast<double>(seen[n / 2 - 1]) + seen[n / 2]) / 2;
    }
    features.push_back({{"name", names[i]}, {"value", number_or_null(d.features[i])},
                        {"typical", number_or_null(typical)}, {"typical_of", seen.size()}});
  }
  return nlohmann::json{{"item", std::move(item)}, {"features", std::move(features)},
                        {"user_history", std::move(history)}, {"user_history_kept", limits_.per_user}};
}

} // namespace vigil::models
