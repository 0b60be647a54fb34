// `vigil score` end to end: the binary, a file in, decisions out.

#include "models/serving/decision_json.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace vigil;

namespace {

/// `count` simulated labelled transactions, written to `file` as JSON lines.
std::vector<pipeline::labelled_transaction> write_simulated(const std::filesystem::path& file, std::uint64_t seed,
                                                            int count, double fraud_scale = 1.0) {
  pipeline::simulator_options o;
  o.seed = seed;
  o.expected_count = count;
  o.fraud_scale = fraud_scale;
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

TEST_CASE("vigil score writes one decision per transaction with the shared scoring code",
          "[integration][cli]") {
  auto dir = testing::scratch_dir("score");
  write_simulated(dir / "in.jsonl", 4, 2'000);
  auto command = std::string(VIGIL_BINARY) + " score --in " + (dir / "in.jsonl").string() +
                 " --out " + (dir / "out.jsonl").string() + " --registry " +
                 testing::trained_registry().string() + " 2> " + (dir / "err.txt").string();
  REQUIRE(std::system(command.c_str()) == 0);
  std::size_t lines = 0;
  auto decisions = testing::read_decisions(dir / "out.jsonl", &lines);
  CHECK(lines == 2'000);
  CHECK(decisions.size() == 2'000);
  std::size_t flagged_with_reasons = 0, flagged = 0;
  for (const auto& [id, d] : decisions) {
    CHECK(d["model_version"].get<int>() >= 1);
    CHECK(d.contains("feature_snapshot_id"));
    if (d["decision"] != "approve") {
      ++flagged;
      flagged_with_reasons += d["reasons"].empty() ? 0 : 1;
    }
  }
  CHECK(flagged > 0);
  CHECK(flagged_with_reasons == flagged);
  std::ifstream err(dir / "err.txt");
  std::string summary((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK(summary.find("scored 2000 transactions") != std::string::npos);
  CHECK(summary.find("PR-AUC") != std::string::npos);
}

namespace {

int run_vigil(const std::string& arguments, const std::filesystem::path& err) {
  return testing::run_with_stderr(std::string(VIGIL_BINARY) + " " + arguments, err);
}

using testing::text_of;

} // namespace

TEST_CASE("vigil score applies each label at its label time, through the training replay's code",
          "[integration][cli][labels]") {
  auto dir = testing::scratch_dir("score-labels");
  auto stream = write_simulated(dir / "in.jsonl", 9, 20'000);
  const auto from = stream[12'000].tx.event_time_ms;
  REQUIRE(run_vigil("score --with-features --in " + (dir / "in.jsonl").string() + " --out " +
                      (dir / "out.jsonl").string() + " --registry " + testing::trained_registry().string() +
                      " --score-from " + pipeline::format_iso8601_ms(from),
                    dir / "err.txt") == 0);
  auto decisions = testing::read_decisions(dir / "out.jsonl");

  // The same file through the replay training uses: the earlier part only
  // builds state, and every scored vector is bit for bit the replay's.
  pipeline::feature_store store;
  pipeline::delayed_label_replay replay{store};
  std::size_t expected = 0, compared = 0, with_labels_known = 0;
  for (const auto& record : stream) {
    auto features = replay.next(record);
    if (record.tx.event_time_ms < from)
      continue;
    ++expected;
    auto it = decisions.find(record.tx.transaction_id);
    REQUIRE(it != decisions.end());
    auto scored = models::decision_from_json(it->second);
    REQUIRE(scored);
    compared += std::memcmp(scored->features.data(), features.data(), sizeof features) == 0 ? 1 : 0;
    with_labels_known += features[static_cast<int>(pipeline::feature::merchant_labelled_30d)] > 0 ? 1 : 0;
  }
  CHECK(decisions.size() == expected);
  CHECK(compared == expected);
  CHECK(with_labels_known > expected / 2);  // the warm-up's labels reached merchant state
  auto summary = text_of(dir / "err.txt");
  CHECK(summary.find("scored " + std::to_string(expected) + " transactions") != std::string::npos);
  CHECK(summary.find("ROC-AUC") != std::string::npos);
}

TEST_CASE("vigil score and vigil train stop when too many lines are invalid, and name them",
          "[integration][cli][labels]") {
  auto dir = testing::scratch_dir("score-invalid");
  pipeline::simulator_options o;
  o.seed = 5;
  o.expected_count = 1'000;
  pipeline::transaction_simulator sim{o};
  {
    std::ofstream in(dir / "in.jsonl");
    for (int i = 0; i < 100; ++i) {
      auto record = sim.next();
      if (i % 25 == 3)
        record.label->label_time_ms = pipeline::label_time_unknown;  // 4 lines: label without a time
      in << pipeline::to_json(record).dump() << '\n';
    }
  }
  const auto in = " --in " + (dir / "in.jsonl").string() + " --registry " + testing::trained_registry().string();
  for (const char* command : {"score", "train"}) {
    INFO(command);
    CHECK(run_vigil(std::string(command) + in, dir / "err.txt") == 2);
    auto err = text_of(dir / "err.txt");
    CHECK(err.find("4 of 100 lines are invalid (4.00%), more than --max-invalid-share 0.01") != std::string::npos);
    CHECK(err.find("line 4: label.label_time: missing") != std::string::npos);
  }
  CHECK(run_vigil("score" + in + " --max-invalid-share 0.05 --out " + (dir / "out.jsonl").string(),
                  dir / "err.txt") == 0);
  CHECK(testing::read_decisions(dir / "out.jsonl").size() == 96);
  CHECK(run_vigil("score" + in + " --label-delay 48 --out " + (dir / "out.jsonl").string(), dir / "err.txt") == 0);
  CHECK(testing::read_decisions(dir / "out.jsonl").size() == 100);
}

TEST_CASE("vigil evaluate writes a prequential report with the plain baseline beside the model",
          "[integration][cli][evaluation]") {
  auto dir = testing::scratch_dir("evaluate");
  write_simulated(dir / "in.jsonl", 8, 20'000, 2.0);
  REQUIRE(run_vigil("evaluate --in " + (dir / "in.jsonl").string() + " --train-days 10 --delay-days 3 " +
                      "--test-days 7 --folds 2 --k 10 --trials 1 --max-rounds 30 --out " + (dir / "report").string() +
                      " > " + (dir / "out.txt").string(),
                    dir / "err.txt") == 0);
  auto report = nlohmann::json::parse(text_of(dir / "report" / "evaluation.json"));
  CHECK(report["evaluated_folds"] == 2);
  CHECK(report["protocol"]["delay_days"] == 3);
  CHECK(report["folds"][1]["model"]["card_precision_at_k"].is_number());
  CHECK(report["folds"][1]["baseline"]["average_precision"].is_number());
  CHECK(text_of(dir / "report" / "evaluation.svg").find("plain XGBoost") != std::string::npos);
  auto printed = text_of(dir / "out.txt");
  CHECK(printed.find("mean over 2 folds (k = 10)") != std::string::npos);
  CHECK(printed.find("plain XGBoost") != std::string::npos);
  // A file too short for one fold is refused with the reason.
  CHECK(run_vigil("evaluate --in " + (dir / "in.jsonl").string() + " --train-days 30 --out " +
                    (dir / "none").string(),
                  dir / "err.txt") == 2);
  CHECK(text_of(dir / "err.txt").find("spans less than one training window") != std::string::npos);
  CHECK(run_vigil("evaluate --in " + (dir / "in.jsonl").string() + " --k -5", dir / "err.txt") == 2);
  CHECK(text_of(dir / "err.txt").find("--k must be between 1 and 1000000") != std::string::npos);
}

TEST_CASE("a CSV file of someone else's data is imported, then scored with a stated label delay",
          "[integration][cli][import]") {
  auto dir = testing::scratch_dir("import");
  {
    // The columns of a public fraud benchmark: no currency, country, category or device.
    std::ofstream csv(dir / "tx.csv");
    csv << "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD\n";
    for (int i = 0; i < 300; ++i)
      csv << i << ",2018-04-0" << 1 + i / 100 << " " << 10 + i % 12 << ":" << 10 + i % 50 << ":00," << i % 37
          << "," << i % 11 << "," << 5 + (i * 7) % 90 << "." << i % 10 << "," << (i % 29 == 0 ? 1 : 0) << "\n";
    csv << "300,not a time,1,2,3.0,0\n";  // one bad row: under the 1% allowed
  }
  const std::string map = "transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,user_id=CUSTOMER_ID,"
                          "merchant_id=TERMINAL_ID,amount=TX_AMOUNT,is_fraud=TX_FRAUD";
  REQUIRE(run_vigil("import --csv " + (dir / "tx.csv").string() + " --map " + map + " --currency EUR --out " +
                      (dir / "tx.jsonl").string(),
                    dir / "err.txt") == 0);
  auto err = text_of(dir / "err.txt");
  CHECK(err.find("imported 300 of 301 rows, 1 invalid") != std::string::npos);
  CHECK(err.find("line 302: timestamp: not a time: 'not a time'") != std::string::npos);
  // Its labels have no times: refused, then scored with a stated delay.
  const auto score = "score --in " + (dir / "tx.jsonl").string() + " --registry " +
                     testing::trained_registry().string() + " --out " + (dir / "out.jsonl").string();
  CHECK(run_vigil(score, dir / "err.txt") == 2);
  REQUIRE(run_vigil(score + " --label-delay 168", dir / "err.txt") == 0);
  auto decisions = testing::read_decisions(dir / "out.jsonl");
  CHECK(decisions.size() == 300);
  // Too many bad rows: stopped, and no half-converted file is left.
  CHECK(run_vigil("import --csv " + (dir / "tx.csv").string() + " --map " + map + " --currency EUR " +
                    "--max-invalid-share 0 --out " + (dir / "strict.jsonl").string(),
                  dir / "err.txt") == 2);
  CHECK_FALSE(std::filesystem::exists(dir / "strict.jsonl"));
}
