// `vigil backtest` end to end: the binary, a labelled file in, a report and
// the candidate's decisions out, checked against `vigil score` on the same
// file and against metrics computed here.

#include "models/evaluation/classification_metrics.h"
#include "models/registry/model_registry.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace vigil;
using json = nlohmann::json;

namespace {

int run_vigil(const std::string& arguments, const std::filesystem::path& err) {
  return testing::run_with_stderr(std::string(VIGIL_BINARY) + " " + arguments, err);
}

using testing::text_of;

std::vector<pipeline::labelled_transaction> write_simulated(const std::filesystem::path& file, int count) {
  pipeline::simulator_options o;
  o.seed = 31;
  o.expected_count = count;
  o.fraud_scale = 3;
  pipeline::transaction_simulator sim{o};
  std::vector<pipeline::labelled_transaction> records;
  std::ofstream out(file);
  for (int i = 0; i < count; ++i) {
    records.push_back(sim.next());
    out << pipeline::to_json(records.back()).dump() << '\n';
  }
  return records;
}

} // namespace

TEST_CASE("vigil backtest: the candidate's decisions equal vigil score's, its metrics equal theirs, rules change "
          "what they hit",
          "[integration][cli][rules]") {
  auto dir = testing::scratch_dir("backtest");
  auto stream = write_simulated(dir / "in.jsonl", 6'000);
  const auto registry = testing::trained_registry().string();
  const auto version = models::model_registry{registry}.production()->version;
  const auto common = " --in " + (dir / "in.jsonl").string() + " --registry " + registry;

  REQUIRE(run_vigil("score" + common + " --out " + (dir / "score.jsonl").string(), dir / "score.err") == 0);
  REQUIRE(run_vigil("backtest" + common + " --model " + std::to_string(version) + " --out " +
                      (dir / "same.json").string() + " --decisions-out " + (dir / "same.jsonl").string(),
                    dir / "same.err") == 0);
  // The same model without rules: line for line what `vigil score` wrote.
  CHECK(text_of(dir / "same.jsonl") == text_of(dir / "score.jsonl"));
  auto same = json::parse(text_of(dir / "same.json"));
  CHECK(same["production"] == same["candidate"]);
  CHECK(same["changes"]["rows"] == 6'000);
  CHECK(same["changes"]["changed"] == 0);

  // Its metrics, recomputed here from score's decisions and the file's labels.
  std::map<std::string, bool> fraud;
  for (const auto& r : stream)
    if (r.label)
      fraud[r.tx.transaction_id] = r.label->is_fraud;
  std::vector<float> scores, labels;
  std::int64_t flagged_frauds = 0, flagged = 0, frauds = 0, reviews = 0;
  std::ifstream lines(dir / "score.jsonl");
  for (std::string line; std::getline(lines, line);) {
    auto d = json::parse(line);
    reviews += d["decision"] == "review" ? 1 : 0;
    auto it = fraud.find(d["transaction_id"]);
    if (it == fraud.end())
      continue;
    scores.push_back(d["probability"].get<float>());
    labels.push_back(it->second ? 1.0f : 0.0f);
    const bool f = d["decision"] != "approve";
    flagged += f;
    frauds += it->second;
    flagged_frauds += f && it->second;
  }
  const auto& c = same["candidate"];
  CHECK(c["labelled"] == scores.size());
  CHECK(c["frauds"] == frauds);
  CHECK(frauds > 20);
  CHECK(c["pr_auc"].get<double>() == Approx(models::pr_auc(scores, labels)).epsilon(1e-12));
  CHECK(c["flagged"]["tp"] == flagged_frauds);
  CHECK(c["flagged"]["fp"] == flagged - flagged_frauds);
  CHECK(c["flagged"]["recall"].get<double>() == Approx(double(flagged_frauds) / double(frauds)));
  CHECK(c["decisions"]["review"] == reviews);
  CHECK(c["alerts_per_day"]["days"].get<int>() >= 1);

  // A candidate rule set: every row over 700 declined, and nothing else changed.
  {
    std::ofstream rules(dir / "rules.json");
    rules << R"({"rules": [{"id": "big", "when": "tx.amount > 700", "action": "decline"}]})";
  }
  REQUIRE(run_vigil("backtest" + common + " --model " + std::to_string(version) + " --rules " +
                      (dir / "rules.json").string() + " --out " + (dir / "rules-report.json").string() +
                      " --decisions-out " + (dir / "rules.jsonl").string(),
                    dir / "rules.err") == 0);
  auto with_rules = json::parse(text_of(dir / "rules-report.json"));
  std::int64_t big = 0, big_not_declined_before = 0;
  std::map<std::string, std::string> before;
  std::ifstream score_lines(dir / "score.jsonl");
  for (std::string line; std::getline(score_lines, line);) {
    auto d = json::parse(line);
    before[d["transaction_id"]] = d["decision"];
  }
  for (const auto& r : stream)
    if (r.tx.amount > 700) {
      ++big;
      big_not_declined_before += before[r.tx.transaction_id] != "decline";
    }
  REQUIRE(big > 0);
  CHECK(with_rules["candidate"]["rule_hits"]["big"] == big);
  CHECK(with_rules["candidate"]["rules"] == 1);
  CHECK(with_rules["production"] == same["production"]);
  CHECK(with_rules["changes"]["changed"] == big_not_declined_before);
  for (const auto& [change, n] : with_rules["changes"]["by_outcome"].items())
    CHECK(change.substr(change.size() - 9) == "->decline");
  CHECK(with_rules["candidate"]["pr_auc"] == same["candidate"]["pr_auc"]);  // rules do not move the probability

  // A rule set that does not validate is refused with its place and reason.
  {
    std::ofstream rules(dir / "bad.json");
    rules << R"([{"id": "x", "when": "tx.amount >", "action": "decline"}])";
  }
  CHECK(run_vigil("backtest" + common + " --model " + std::to_string(version) + " --rules " +
                    (dir / "bad.json").string(),
                  dir / "bad.err") != 0);
  CHECK(text_of(dir / "bad.err").find("rules[0].when") != std::string::npos);
  CHECK(run_vigil("backtest" + common, dir / "none.err") != 0);
  CHECK(text_of(dir / "none.err").find("--model is required") != std::string::npos);
}
