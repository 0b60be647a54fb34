#include "models/evaluation/backtest_side.h"

#include "models/serving/batch_scoring.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace vigil::models {

decision_record backtest_side::score(const pipeline::transaction& tx, const pipeline::feature_vector& features,
                                     std::optional<bool> label) {
  pipeline::work_batch one(1);
  one.front().tx = tx;
  one.front().features = features;
  auto d = score_batch(one, *model, thresholds, false, {}, true, &rules).front();
  tally.add(d, label);
  return d;
}

nlohmann::json backtest_side::report() const {
  auto j = tally.report();
  j["model_version"] = model->version;
  j["rules"] = rule_count;
  j["thresholds"] = {{"review", thresholds.review}, {"decline", thresholds.decline}};
  return j;
}

backtest_side make_backtest_side(const model_registry& registry, int version,
                                 const std::vector<rules::rule_definition>& rules, double decline) {
  backtest_side side;
  side.model = load_scoring_model(registry, version);
  side.rules = rules::rule_set::compile(rules);
  side.rule_count = rules.size();
  side.thresholds = {side.model->threshold, std::max(side.model->threshold, decline)};
  return side;
}

} // namespace vigil::models
