// The decisions file when the disk fills up: nothing lost, nothing torn or
// written twice, the batches held back until the write succeeds. The file
// size limit (RLIMIT_FSIZE) stands in for a full disk: a write past it fails
// with EFBIG as a full disk fails with ENOSPC. Each test case runs in its own
// process (ctest), so the limit touches nothing else.

#include "models/registry/model_registry.h"
#include "pipeline/connectors/decision_publisher.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include <sys/resource.h>

using namespace vigil;

namespace {

connectors::decision_batch batch_of(int first, int n) {
  connectors::decision_batch out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    out[static_cast<std::size_t>(i)].transaction_id = "tx-" + std::to_string(first + i);
  return out;
}

void limit_file_size(rlim_t bytes) {
  rlimit r{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &r) == 0);
  r.rlim_cur = bytes;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &r) == 0);
}

} // namespace

TEST_CASE("a full disk holds decisions back, then writes each exactly once", "[unit][connectors]") {
  std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails instead of killing the process
  auto path = testing::scratch_dir("publisher-full") / "decisions.jsonl";
  rlimit original{};
  getrlimit(RLIMIT_FSIZE, &original);
  auto& failures = pipeline::metrics().get_counter("vigil_output_write_failures_total", "");
  auto failures_before = failures.value();
  connectors::file_decision_publisher publisher{path.string()};
  publisher.publish(1, batch_of(0, 10));
  publisher.seal(1);
  CHECK(publisher.take_delivered() == std::vector<std::uint64_t>{1});

  // The disk fills up a few hundred bytes further: batch 2 is written in
  // part, batch 3 not at all; neither is delivered and nothing throws.
  limit_file_size(std::filesystem::file_size(path) + 300);
  publisher.publish(2, batch_of(10, 20));
  publisher.seal(2);
  publisher.publish(3, batch_of(30, 20));
  publisher.seal(3);
  CHECK(publisher.take_delivered().empty());
  CHECK(publisher.take_delivered().empty());  // retried, still full
  CHECK(failures.value() > failures_before);
  CHECK(pipeline::metrics().get_gauge("vigil_output_write_failing", "").value() == 1);
  // What did fit holds whole lines only: a crash now leaves no torn line.
  {
    std::ifstream partial(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(partial)), {});
    CHECK(text.size() > 0);
    CHECK(text.back() == '\n');
  }

  // Space returns: the next retry delivers both, in order.
  REQUIRE(setrlimit(RLIMIT_FSIZE, &original) == 0);
  CHECK(publisher.take_delivered() == std::vector<std::uint64_t>{2, 3});
  CHECK(pipeline::metrics().get_gauge("vigil_output_write_failing", "").value() == 0);

  std::ifstream in(path);
  std::string line;
  std::multiset<std::string> ids;
  while (std::getline(in, line))
    ids.insert(nlohmann::json::parse(line).at("transaction_id").get<std::string>());  // no torn line
  CHECK(ids.size() == 50);
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 50);  // none twice
}

TEST_CASE("a checkpoint write that hits a full disk leaves the previous file whole and no partial copy",
          "[unit][connectors]") {
  std::signal(SIGXFSZ, SIG_IGN);
  auto dir = testing::scratch_dir("snapshot-full");
  auto path = dir / "state.snapshot";
  models::write_file_atomically(path, std::string(1000, 'a'));
  rlimit original{};
  getrlimit(RLIMIT_FSIZE, &original);
  limit_file_size(2000);
  CHECK_THROWS_WITH(models::write_file_atomically(path, std::string(5000, 'b')), Catch::Contains("short write"));
  REQUIRE(setrlimit(RLIMIT_FSIZE, &original) == 0);
  CHECK(std::filesystem::file_size(path) == 1000);  // the previous checkpoint, untouched
  CHECK_FALSE(std::filesystem::exists(dir / "state.snapshot.tmp"));  // its space given back
  models::write_file_atomically(path, std::string(5000, 'c'));  // space returned: it works again
  CHECK(std::filesystem::file_size(path) == 5000);
}

TEST_CASE("a torn last line left by a crash is cut off before new decisions are appended", "[unit][connectors]") {
  auto dir = testing::scratch_dir("decisions-torn");
  auto path = (dir / "decisions.jsonl").string();
  {
    std::ofstream out(path);
    out << "{\"transaction_id\":\"tx-1\"}\n{\"transaction_id\":\"tx-2\"}\n{\"transaction_id\":\"tx-";  // cut short
  }
  {
    connectors::file_decision_publisher publisher{path};
    publisher.publish(1, batch_of(3, 2));
    publisher.seal(1);
    CHECK(publisher.take_delivered() == std::vector<std::uint64_t>{1});
  }
  std::ifstream in(path);
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);)
    ids.push_back(nlohmann::json::parse(line).at("transaction_id"));  // every line whole
  CHECK(ids == std::vector<std::string>{"tx-1", "tx-2", "tx-3", "tx-4"});

  // A file of one torn line, and a whole file, are handled too.
  { std::ofstream(path) << "{\"transaction"; }
  { connectors::file_decision_publisher reopened{path}; }
  CHECK(std::filesystem::file_size(path) == 0);
  { std::ofstream(path) << "{}\n"; }
  { connectors::file_decision_publisher reopened{path}; }
  CHECK(std::filesystem::file_size(path) == 3);
}

TEST_CASE("shadow decisions go to a file of their own, production's lines are untouched", "[unit][connectors][rules]") {
  CHECK(connectors::shadow_decisions_path("decisions.jsonl") == "decisions-shadow.jsonl");
  CHECK(connectors::shadow_decisions_path("/var/x.y/out.jsonl") == "/var/x.y/out-shadow.jsonl");
  CHECK(connectors::shadow_decisions_path("/var/x.y/out") == "/var/x.y/out-shadow");
  CHECK(connectors::shadow_decisions_path("/var/.hidden") == "/var/.hidden-shadow");
  auto dir = testing::scratch_dir("publisher-shadow");
  auto path = (dir / "decisions.jsonl").string();
  connectors::file_decision_publisher publisher{path};
  auto batch = batch_of(0, 3);
  auto shadow = batch_of(0, 3);
  for (auto& d : shadow) {
    d.shadow = true;
    d.decision = models::decision_kind::decline;
  }
  batch.insert(batch.end(), shadow.begin(), shadow.end());
  publisher.publish(7, batch);
  publisher.seal(7);
  CHECK(publisher.take_delivered() == std::vector<std::uint64_t>{7});
  auto lines = [](const std::string& file) {
    std::vector<nlohmann::json> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
      out.push_back(nlohmann::json::parse(line));
    return out;
  };
  auto served = lines(path), shadowed = lines(connectors::shadow_decisions_path(path));
  REQUIRE(served.size() == 3);
  REQUIRE(shadowed.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK_FALSE(served[i].contains("shadow"));
    CHECK(served[i]["decision"] == "approve");
    CHECK(shadowed[i]["shadow"] == true);
    CHECK(shadowed[i]["decision"] == "decline");
    CHECK(shadowed[i]["transaction_id"] == served[i]["transaction_id"]);
  }
}
