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

#include <sys/wait.h>

using namespace vigil;

TEST_CASE("vigil score writes one decision per transaction with the shared scoring code",
          "[integration][cli]") {
  auto dir = testing::scratch_dir("score");
  {
    pipeline::simulator_options o;
    o.seed = 4;
    o.expected_count = 2'000;
    pipeline::transaction_simulator sim{o};
    std::ofstream in(dir / "in.jsonl");
    for (int i = 0; i < 2'000; ++i)
      in << pipeline::to_json(sim.next()).dump() << '\n';
  }
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
  auto command = std::string(VIGIL_BINARY) + " " + arguments + " 2> " + err.string();
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("vigil score applies each label at its label time, through the training replay's code",
          "[integration][cli][labels]") {
  auto dir = testing::scratch_dir("score-labels");
  pipeline::simulator_options o;
  o.seed = 9;
  o.expected_count = 20'000;
  pipeline::transaction_simulator sim{o};
  std::vector<pipeline::labelled_transaction> stream;
  {
    std::ofstream in(dir / "in.jsonl");
    for (int i = 0; i < 20'000; ++i) {
      stream.push_back(sim.next());
      in << pipeline::to_json(stream.back()).dump() << '\n';
    }
  }
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
