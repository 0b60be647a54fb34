#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "actors/cli/input_file.h"
#include "config/runtime_config.h"
#include "models/evaluation/backtest_side.h"
#include "models/registry/model_registry.h"
#include "models/serving/decision_json.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <set>

namespace vigil::cli {
namespace {

constexpr const char* usage = R"(usage: vigil backtest --model V [options]
Replays labelled history through the stream's feature code once and scores
every row twice, with production (a model and its rules) and with a
candidate (--model, --rules), side by side: PR-AUC, precision and recall of
flagged (review or decline) and of declined rows, decisions changed, alerts
per day, rule hits. The report is JSON (stdout, or --out).

)";

constexpr const char* help = R"(  --model V                candidate model version (required)
  --rules FILE             candidate rules: a JSON array of rules, or {"rules": [...]}
                           (default: none); validated as PATCH /config validates them
  --production-model V     production's model version (default: the registry's production model)
  --production-rules FILE  production's rules, as --rules (default: none)
  --registry DIR           model registry (default: ./registry)
  --decline P              decline threshold for both (default 0.9; review = each model's threshold)
  --score-from TIME        ISO-8601: earlier rows only build state, as history
  --out FILE               the report (default: stdout)
  --decisions-out FILE     the candidate's decisions as JSON lines, as `vigil score` writes them
)";

// Rules from a file, refused with every problem named as PATCH /config names it.
std::vector<rules::rule_definition> read_rules_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw usage_error("cannot open rules file " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw usage_error(path + " is not JSON: " + e.what());
  }
  if (j.is_object() && j.contains("rules"))
    j = j["rules"];
  std::vector<rules::rule_definition> rules;
  auto errors = config::rules_from_json(j, rules);
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors)
      all += "\n  " + e.field + ": " + e.reason;
    throw usage_error(path + " holds rules that do not validate:" + all);
  }
  return rules;
}

} // namespace

int backtest_command(const arguments& args) {
  std::set<std::string> options{"model",    "rules",      "production-model", "production-rules", "registry",
                                "decline", "score-from", "out",              "decisions-out"};
  options.insert(std::begin(input_file_options), std::end(input_file_options));
  command_line cl(args, options, {"help"});
  if (cl.has("help")) {
    std::cout << usage << input_file_help << help;
    return 0;
  }
  if (!cl.has("model"))
    throw usage_error("--model is required: the candidate model version");
  const auto score_from = score_from_option(cl);
  models::model_registry registry{cl.text("registry", "registry")};
  const int production_version = version_or_production(cl, "production-model", registry);
  const double decline = cl.number("decline", 0.9);
  auto rules_of = [&](const char* option) {
    return cl.has(option) ? read_rules_file(cl.text(option, "")) : std::vector<rules::rule_definition>{};
  };
  auto production = models::make_backtest_side(registry, production_version, rules_of("production-rules"), decline);
  auto candidate =
    models::make_backtest_side(registry, static_cast<int>(cl.integer("model", 0)), rules_of("rules"), decline);

  std::ofstream decisions_file;
  if (cl.has("decisions-out")) {
    decisions_file.open(cl.text("decisions-out", ""));
    if (!decisions_file)
      throw usage_error("cannot write " + cl.text("decisions-out", ""));
  }
  auto file = read_input_file(cl);
  pipeline::sort_by_event_time(file.records);
  // One replay, so both variants score exactly the same vectors.
  pipeline::feature_store store;
  pipeline::delayed_label_replay replay{store};
  models::decision_changes changes;
  for (const auto& record : file.records) {
    auto features = replay.next(record);
    if (record.tx.event_time_ms < score_from)
      continue;
    auto label = record.label ? std::optional<bool>(record.label->is_fraud) : std::nullopt;
    auto before = production.score(record.tx, features, label);
    auto after = candidate.score(record.tx, features, label);
    changes.add(before.decision, after.decision);
    if (decisions_file.is_open())
      decisions_file << models::render_decision(after, false) << '\n';
  }
  nlohmann::json report{{"production", production.report()},
                        {"candidate", candidate.report()},
                        {"changes", changes.report()},
                        {"rows_read", file.records.size()},
                        {"rejected_lines", file.rejected.size()}};
  std::ofstream out_file;
  output_of(cl, out_file) << report.dump(2) << '\n';
  return 0;
}

} // namespace vigil::cli
