#include "models/evaluation/log_backtest.h"

#include "models/evaluation/backtest_side.h"
#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <unordered_map>

namespace vigil::models {
namespace {

// The transaction fields a logged vector still carries.
pipeline::transaction transaction_of(const decision_record& d) {
  pipeline::transaction tx;
  tx.transaction_id = d.transaction_id;
  tx.user_id = d.user_id;
  tx.merchant_id = d.merchant_id;
  tx.event_time_ms = d.event_time_ms;
  auto amount = d.features[static_cast<int>(pipeline::feature::amount)];
  tx.amount = std::isnan(amount) ? 0 : amount;
  static const char* channels[] = {"pos", "online", "atm", "mobile"};
  auto channel = d.features[static_cast<int>(pipeline::feature::channel_code)];
  if (channel >= 0 && channel < 4)
    tx.channel = channels[static_cast<int>(channel)];
  return tx;
}

} // namespace

nlohmann::json backtest_decisions_log(const model_registry& registry, const std::vector<decision_record>& decisions,
                                      const std::vector<pipeline::label_event>& labels,
                                      const log_backtest_request& request) {
  auto production =
    make_backtest_side(registry, request.production_version, request.production_rules, request.decline);
  auto candidate = make_backtest_side(registry, request.candidate_version, request.candidate_rules, request.decline);

  std::unordered_map<std::string, bool> label_of;
  for (const auto& l : labels)
    label_of[l.transaction_id] = l.is_fraud;
  std::unordered_map<std::string, std::size_t> last_logged;
  for (std::size_t i = 0; i < decisions.size(); ++i)
    if (!decisions[i].shadow)
      last_logged[decisions[i].transaction_id] = i;

  decision_changes changes;
  std::size_t rows = 0, labelled = 0;
  std::int64_t first = 0, last = 0;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const auto& d = decisions[i];
    if (d.shadow || last_logged[d.transaction_id] != i)
      continue;
    std::optional<bool> label;
    if (auto it = label_of.find(d.transaction_id); it != label_of.end())
      label = it->second;
    auto tx = transaction_of(d);
    auto before = production.score(tx, d.features, label);
    auto after = candidate.score(tx, d.features, label);
    changes.add(before.decision, after.decision);
    ++rows;
    labelled += label.has_value();
    first = rows == 1 ? d.event_time_ms : std::min(first, d.event_time_ms);
    last = std::max(last, d.event_time_ms);
  }
  return {{"source", "decisions log"},
          {"production", production.report()},
          {"candidate", candidate.report()},
          {"changes", changes.report()},
          {"rows", rows},
          {"labelled", labelled},
          {"duplicates", decisions.size() - rows},
          {"first_event_time", rows ? nlohmann::json(pipeline::format_iso8601_ms(first)) : nlohmann::json(nullptr)},
          {"last_event_time", rows ? nlohmann::json(pipeline::format_iso8601_ms(last)) : nlohmann::json(nullptr)}};
}

} // namespace vigil::models
