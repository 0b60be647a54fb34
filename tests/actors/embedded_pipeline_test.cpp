// The whole embedded node: simulator -> actors -> decisions file, with
// checkpoints in a local file.

#include "actors/node/vigil_node.h"
#include "pipeline/features/feature_schema.h"
#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/schema/transaction_json.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <limits>
#include <thread>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

config::runtime_config node_config(const fs::path& dir, std::int64_t count) {
  auto c = testing::embedded_config(dir, count);
  c.simulator_seed = 5;
  c.batch_size = 64;
  return c;
}

void run_to_end(const config::runtime_config& c) {
  actors::vigil_node node{c, ""};
  node.start();
  REQUIRE(node.wait_drained(std::chrono::seconds(120)));
  node.stop();
}

} // namespace

TEST_CASE("every simulated transaction gets exactly one decision", "[integration][pipeline]") {
  auto dir = testing::scratch_dir("exactly-once");
  auto started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  run_to_end(node_config(dir, 5'000));
  // The final checkpoint is stored and its time is exported for alerting.
  CHECK(fs::exists(dir / "state.snapshot"));
  CHECK(pipeline::metrics().get_gauge("vigil_last_checkpoint_timestamp_seconds", "").value() >= started);
  std::size_t lines = 0;
  auto decisions = testing::read_decisions(dir / "decisions.jsonl", &lines);
  CHECK(lines == 5'000);
  CHECK(decisions.size() == 5'000);
  const auto& d = decisions.begin()->second;
  CHECK(d.contains("probability"));
  CHECK(d.contains("feature_snapshot_id"));
  CHECK(d["features"].size() == pipeline::feature_count);
  CHECK(d["model_version"].get<int>() >= 1);
}

TEST_CASE("the embedded simulator's labels reach user and merchant state at their label time",
          "[integration][pipeline][labels]") {
  // 45,000 records span more than a simulated day: the first labels (1 to 7
  // days late) are known by the end, none at the start.
  auto count_labelled = [](const fs::path& dir, bool labels) {
    auto c = node_config(dir, 45'000);
    c.simulator_labels = labels;
    run_to_end(c);
    auto decisions = testing::read_decisions(dir / "decisions.jsonl");
    REQUIRE(decisions.size() == 45'000);
    std::size_t merchants = 0, users = 0;
    std::int64_t first_known = std::numeric_limits<std::int64_t>::max(), start = std::numeric_limits<std::int64_t>::max();
    for (const auto& [id, d] : decisions) {
      auto t = *pipeline::parse_iso8601_ms(d["event_time"].get<std::string>());
      start = std::min(start, t);
      if (d["features"]["merchant_labelled_30d"].get<double>() > 0) {
        ++merchants;
        first_known = std::min(first_known, t);
      }
      users += d["features"]["user_labelled_30d"].get<double>() > 0 ? 1 : 0;
    }
    if (merchants > 0)
      CHECK(first_known - start >= 24 * 3'600'000LL);  // never before the shortest delay
    return std::make_pair(merchants, users);
  };
  auto with = count_labelled(testing::scratch_dir("sim-labels"), true);
  CHECK(with.first > 1'000);
  CHECK(with.second > 0);
  auto without = count_labelled(testing::scratch_dir("sim-no-labels"), false);
  CHECK(without.first == 0);
  CHECK(without.second == 0);
}

TEST_CASE("a restart from the checkpoint reproduces the uninterrupted run exactly",
          "[integration][pipeline]") {
  auto straight = testing::scratch_dir("straight");
  run_to_end(node_config(straight, 6'000));
  auto expected = testing::read_decisions(straight / "decisions.jsonl");
  REQUIRE(expected.size() == 6'000);

  auto resumed = testing::scratch_dir("resumed");
  run_to_end(node_config(resumed, 2'500));    // stops with a checkpoint at 2,500
  run_to_end(node_config(resumed, 6'000));    // restores state, seeks to 2,500
  std::size_t lines = 0;
  auto actual = testing::read_decisions(resumed / "decisions.jsonl", &lines);
  CHECK(lines == 6'000);  // nothing scored twice, nothing lost
  REQUIRE(actual.size() == expected.size());
  std::size_t same = 0;
  for (const auto& [id, d] : expected) {
    const auto& r = actual.at(id);
    if (r["feature_snapshot_id"] == d["feature_snapshot_id"] && r["probability"] == d["probability"])
      ++same;
  }
  CHECK(same == expected.size());
}

TEST_CASE("a live config change alters decisions of the running stream", "[integration][pipeline]") {
  auto dir = testing::scratch_dir("live-config");
  auto c = node_config(dir, 0);
  c.simulator_rate = 5'000;
  actors::vigil_node node{c, ""};
  node.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SECTION("a refused change changes nothing") {
    auto errors = node.update_config({{"decline_threshold", 2.0}}, "test");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "decline_threshold");
    CHECK(node.config().current().version == 1);
  }
  auto errors = node.update_config({{"review_threshold", 0.0}, {"decline_threshold", 0.0}}, "test");
  REQUIRE(errors.empty());
  CHECK(node.config().current().version == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  node.stop();
  std::ifstream in(dir / "decisions.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  REQUIRE(lines.size() > 200);
  // Batches after the change (the last ones) decline everything.
  for (std::size_t i = lines.size() - 50; i < lines.size(); ++i)
    CHECK(nlohmann::json::parse(lines[i])["decision"] == "decline");
  std::size_t approved = 0;
  for (const auto& l : lines)
    approved += nlohmann::json::parse(l)["decision"] == "approve" ? 1 : 0;
  CHECK(approved > 0);  // before the change most were approved
}

TEST_CASE("shrinking batches and credit live keeps every decision", "[integration][pipeline]") {
  auto dir = testing::scratch_dir("live-batching");
  auto c = node_config(dir, 3'000);
  c.simulator_rate = 6'000;
  c.batch_size = 256;
  actors::vigil_node node{c, ""};
  node.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  REQUIRE(node.update_config({{"batch_size", 1}, {"max_in_flight_batches", 1}}, "test").empty());
  REQUIRE(node.wait_drained(std::chrono::seconds(120)));
  node.stop();
  std::size_t lines = 0;
  auto decisions = testing::read_decisions(dir / "decisions.jsonl", &lines);
  CHECK(lines == 3'000);
  CHECK(decisions.size() == 3'000);
}
