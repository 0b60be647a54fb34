// `vigil run --replay FILE`: the embedded pipeline fed from a labelled file,
// each label held by its merchant until the stream reaches its label_time.
// The stream, through its actors and shards, must give exactly what batch
// scoring gives, also across a kill -9 and a restart from the checkpoint.

#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <sys/wait.h>

using namespace vigil;
using nlohmann::json;

namespace {

constexpr int replay_records = 20'000;

std::filesystem::path write_replay_file(const std::filesystem::path& dir) {
  pipeline::simulator_options o;
  o.seed = 12;
  o.expected_count = replay_records;
  pipeline::transaction_simulator sim{o};
  auto path = dir / "replay.jsonl";
  std::ofstream out(path);
  for (int i = 0; i < replay_records; ++i)
    out << pipeline::to_json(sim.next()).dump() << '\n';
  return path;
}

std::string run_arguments(const std::filesystem::path& dir, const std::filesystem::path& file) {
  return std::string(VIGIL_BINARY) + " run --http-port 0 --replay " + file.string() + " --registry " +
         testing::trained_registry().string() + " --snapshot " + (dir / "state").string() + " --decisions " +
         (dir / "decisions.jsonl").string() + " --set labels_path=" + (dir / "labels.jsonl").string() +
         ",auth_token_path=" + (dir / "token").string() + ",snapshot_interval_ms=300";
}

int exit_code(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1; }

/// `vigil score` on the same file: decisions by transaction id.
std::map<std::string, json> batch_decisions(const std::filesystem::path& dir, const std::filesystem::path& file) {
  auto command = std::string(VIGIL_BINARY) + " score --with-features --in " + file.string() + " --registry " +
                 testing::trained_registry().string() + " --out " + (dir / "batch.jsonl").string() + " 2> " +
                 (dir / "score-err.txt").string();
  REQUIRE(exit_code(std::system(command.c_str())) == 0);
  return testing::read_decisions(dir / "batch.jsonl");
}

std::size_t lines_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line))
    ++n;
  return n;
}

/// Every line of the stream's decisions file against the batch decision of
/// its transaction: probability, decision and feature vector identical.
/// Returns the number of lines; `labelled` counts decisions whose merchant
/// had labels by then.
std::size_t check_every_line(const std::filesystem::path& decisions, const std::map<std::string, json>& batch,
                             std::size_t& labelled) {
  std::ifstream in(decisions);
  std::string line;
  std::size_t lines = 0, same = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto stream = json::parse(line);
    auto it = batch.find(stream["transaction_id"].get<std::string>());
    REQUIRE(it != batch.end());
    const auto& b = it->second;
    bool equal = stream["probability"] == b["probability"] && stream["decision"] == b["decision"] &&
                 stream["features"] == b["features"] && stream["feature_snapshot_id"] == b["feature_snapshot_id"];
    if (!equal && same == lines - 1)  // the first difference, in full
      FAIL_CHECK("stream: " << stream.dump() << "\nbatch:  " << b.dump());
    same += equal ? 1 : 0;
    labelled += stream["features"]["merchant_labelled_30d"].get<double>() > 0 ? 1 : 0;
  }
  CHECK(same == lines);
  return lines;
}

} // namespace

TEST_CASE("a file replayed through vigil run gives the decisions vigil score gives, bit for bit",
          "[integration][cli][labels]") {
  auto dir = testing::scratch_dir("replay");
  auto file = write_replay_file(dir);
  auto command = run_arguments(dir, file) + " 2> " + (dir / "run-err.txt").string();
  REQUIRE(exit_code(std::system(command.c_str())) == 0);  // stops by itself when the file is done
  auto batch = batch_decisions(dir, file);
  REQUIRE(batch.size() == replay_records);
  std::size_t labelled = 0;
  CHECK(check_every_line(dir / "decisions.jsonl", batch, labelled) == replay_records);
  CHECK(labelled > replay_records / 2);  // labels did reach merchant state, at their times
}

TEST_CASE("a replay killed with -9 and restarted from its checkpoint still equals vigil score",
          "[chaos][cli][labels]") {
  auto dir = testing::scratch_dir("replay-kill");
  auto file = write_replay_file(dir);
  // Paced so the run takes seconds: the simulated month at 500,000x.
  auto paced = run_arguments(dir, file) + " --speedup 500000";
  auto start = "(" + paced + " 2> " + (dir / "run1-err.txt").string() + " & echo $! > " + (dir / "pid").string() + ")";
  REQUIRE(std::system(start.c_str()) == 0);
  pid_t pid = 0;
  for (int i = 0; i < 50 && pid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(dir / "pid");
    in >> pid;
  }
  REQUIRE(pid > 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (lines_in(dir / "decisions.jsonl") < replay_records / 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(lines_in(dir / "decisions.jsonl") < replay_records);  // killed mid-file
  REQUIRE(::kill(pid, SIGKILL) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(std::filesystem::exists(dir / "state"));  // a checkpoint to resume from

  auto resume = run_arguments(dir, file) + " 2> " + (dir / "run2-err.txt").string();
  REQUIRE(exit_code(std::system(resume.c_str())) == 0);
  auto batch = batch_decisions(dir, file);
  std::size_t labelled = 0;
  auto lines = check_every_line(dir / "decisions.jsonl", batch, labelled);
  auto decided = testing::read_decisions(dir / "decisions.jsonl");
  CHECK(decided.size() == replay_records);           // every transaction decided
  CHECK(lines < 2 * static_cast<std::size_t>(replay_records));  // resumed, not started over
  CHECK(labelled > replay_records / 2);
}

TEST_CASE("vigil score from a replay's checkpoint goes on exactly where the stream would",
          "[integration][cli][labels]") {
  auto dir = testing::scratch_dir("replay-checkpoint");
  auto whole = write_replay_file(dir);
  // The first 12,000 records (in event-time order, as the file is) in a file of their own.
  auto first = dir / "first.jsonl", rest = dir / "rest.jsonl";
  {
    std::ifstream in(whole);
    std::ofstream a(first), b(rest);
    std::string line;
    for (int i = 0; std::getline(in, line); ++i)
      (i < 12'000 ? a : b) << line << '\n';
  }
  auto stream_dir = dir / "stream", part_dir = dir / "part";
  std::filesystem::create_directories(stream_dir);
  std::filesystem::create_directories(part_dir);
  REQUIRE(exit_code(std::system((run_arguments(stream_dir, whole) + " 2> " + (dir / "a.txt").string()).c_str())) == 0);
  REQUIRE(exit_code(std::system((run_arguments(part_dir, first) + " 2> " + (dir / "b.txt").string()).c_str())) == 0);
  auto command = std::string(VIGIL_BINARY) + " score --with-features --from-checkpoint " +
                 (part_dir / "state").string() + " --in " + rest.string() + " --registry " +
                 testing::trained_registry().string() + " --out " + (dir / "rest-decisions.jsonl").string() + " 2> " +
                 (dir / "c.txt").string();
  REQUIRE(exit_code(std::system(command.c_str())) == 0);
  auto streamed = testing::read_decisions(stream_dir / "decisions.jsonl");
  std::size_t labelled = 0;
  auto lines = check_every_line(dir / "rest-decisions.jsonl", streamed, labelled);
  CHECK(lines == replay_records - 12'000);
  CHECK(labelled > lines / 2);
  // Without the checkpoint the same records score differently: the state mattered.
  auto cold = std::string(VIGIL_BINARY) + " score --with-features --in " + rest.string() + " --registry " +
              testing::trained_registry().string() + " --out " + (dir / "cold.jsonl").string() + " 2> " +
              (dir / "d.txt").string();
  REQUIRE(exit_code(std::system(cold.c_str())) == 0);
  auto cold_decisions = testing::read_decisions(dir / "cold.jsonl");
  std::size_t differ = 0;
  for (const auto& [id, d] : cold_decisions)
    differ += d["features"] != streamed.at(id)["features"] ? 1 : 0;
  CHECK(differ > lines / 2);
}
