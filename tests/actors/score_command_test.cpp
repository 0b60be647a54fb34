// `vigil score` end to end: the binary, a file in, decisions out.

#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

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
