// The embedded node with its decisions file and checkpoint on a 64 MiB tmpfs
// that fills up: a clear error and metrics while writes fail, the stream
// paused rather than losing decisions, the decisions file holding whole
// lines only, no corrupt checkpoint and no partial
// copy, recovery once space returns, and after a kill -9 on the full disk a
// restart from the checkpoint with every line of the decisions file whole.
// The tmpfs lives in a mount namespace of its own (unshare -m), held by a
// small shell process; the node runs inside it through nsenter and the test
// reads the files through /proc/<holder>/root. Needs root (CI runs as root).

#include "models/registry/model_registry.h"
#include "pipeline/features/store_snapshot.h"
#include "support/http_client.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "a", stderr);
    std::freopen(log.c_str(), "a", stdout);
    std::vector<char*> argv;
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  return pid;
}

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

// The value of an unlabelled metric, -1 when absent.
double metric(unsigned short port, const std::string& name) {
  auto body = testing::http_call(port, "GET", "/metrics").body;
  std::smatch m;
  if (std::regex_search(body, m, std::regex("\n" + name + " ([0-9.e+-]+)")))
    return std::stod(m[1]);
  return -1;
}

// Writes zeros to `path` until the file system is full.
void fill(const fs::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  std::string zeros(64 * 1024, '\0');
  while (out.write(zeros.data(), static_cast<std::streamsize>(zeros.size())) && out.flush()) {
  }
}

// A vigil node inside the holder's mount namespace, its files on the tmpfs.
struct node_on_tmpfs {
  pid_t pid = 0;
  unsigned short port = 0;

  node_on_tmpfs(pid_t holder, const fs::path& disk, const fs::path& log) {
    auto before = file_text(log).size();
    pid = spawn({"nsenter", "-t", std::to_string(holder), "-m", "--", VIGIL_BINARY, "run", "--http-port", "0",
                 "--rate", "300", "--count", "100000000", "--registry", testing::trained_registry().string(),
                 "--snapshot", (disk / "state").string(), "--decisions", (disk / "decisions.jsonl").string(), "--set",
                 "simulator_users=2000,snapshot_interval_ms=300,labels_path=" + (disk / "labels.jsonl").string() +
                   ",auth_token_path=" + (disk / "token").string()},
                log.string());
    std::smatch m;
    REQUIRE(eventually(
      [&] {
        auto text = file_text(log).substr(before);
        return std::regex_search(text, m, std::regex("API on http://127.0.0.1:([0-9]+)/"));
      },
      std::chrono::seconds(60)));
    port = static_cast<unsigned short>(std::stoi(m[1]));
  }
};

} // namespace

TEST_CASE("a full disk in embedded mode: clear errors, no corrupt checkpoint, recovery, a clean restart after kill -9",
          "[chaos][disk]") {
  if (::geteuid() != 0 || std::system("unshare -m true >/dev/null 2>&1") != 0) {
    WARN("needs root and unshare -m: not run");
    return;
  }
  auto dir = testing::scratch_dir("disk-full");
  auto disk = dir / "disk";
  fs::create_directories(disk);
  auto log = dir / "vigil.log";
  { std::ofstream(log) << ""; }
  auto owner = std::to_string(::getpid());
  pid_t holder = spawn({"unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs -o size=64m tmpfs '" + disk.string() + "' && touch '" + disk.string() +
                          "/.mounted' && while kill -0 " + owner + " 2>/dev/null; do sleep 0.2; done"},
                       (dir / "holder.log").string());
  auto inside = fs::path("/proc/" + std::to_string(holder) + "/root") / disk.relative_path();
  REQUIRE(eventually([&] { return fs::exists(inside / ".mounted"); }, std::chrono::seconds(10)));
  CHECK_FALSE(fs::exists(disk / ".mounted"));  // the tmpfs is the namespace's alone

  node_on_tmpfs node(holder, disk, log);
  REQUIRE(eventually([&] { return metric(node.port, "vigil_checkpoints_total") >= 1; }, std::chrono::seconds(60)));

  // Full: decisions wait, the stream pauses (credit runs out, so no
  // checkpoint can align either), and the node says so.
  fill(inside / "ballast");
  CHECK(eventually([&] { return metric(node.port, "vigil_output_write_failing") == 1; }, std::chrono::seconds(60)));
  CHECK(eventually(
    [&] {  // credit used up, and nothing more read
      auto in = metric(node.port, "vigil_records_in_total");
      std::this_thread::sleep_for(std::chrono::seconds(1));
      return metric(node.port, "vigil_in_flight_batches") >= 1 && metric(node.port, "vigil_records_in_total") == in;
    },
    std::chrono::seconds(60)));
  CHECK(metric(node.port, "vigil_output_write_failures_total") > 0);
  CHECK(fs::file_size(inside / "decisions.jsonl") > 0);
  CHECK(file_text(log).find("decisions.jsonl failed (No space left on device); decisions wait and the stream "
                            "pauses") != std::string::npos);
  CHECK(testing::http_call(node.port, "GET", "/health").status == 200);
  // The checkpoint on disk is the last whole one, and no partial copy is left.
  CHECK(pipeline::decode_snapshot(models::read_whole_file(inside / "state")).has_value());
  CHECK(file_text(inside / "decisions.jsonl").back() == '\n');
  for (const auto& entry : fs::directory_iterator(inside))
    CHECK(entry.path().filename().string().rfind("state.", 0) != 0);

  // Space returns: writes and checkpoints resume by themselves.
  fs::remove(inside / "ballast");
  CHECK(eventually([&] { return metric(node.port, "vigil_output_write_failing") == 0; }, std::chrono::seconds(60)));
  auto stored = metric(node.port, "vigil_checkpoints_total");
  CHECK(eventually([&] { return metric(node.port, "vigil_checkpoints_total") > stored; }, std::chrono::seconds(60)));
  CHECK(file_text(log).find("decisions.jsonl works again") != std::string::npos);

  auto count_lines = [&] {
    std::ifstream in(inside / "decisions.jsonl");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
      ++n;
    return n;
  };
  const auto written_before = count_lines();
  CHECK(written_before > 0);

  // Full again, then kill -9: the restart reads the checkpoint and the
  // decisions file has no torn line.
  fill(inside / "ballast");
  CHECK(eventually([&] { return metric(node.port, "vigil_output_write_failing") == 1; }, std::chrono::seconds(60)));
  ::kill(node.pid, SIGKILL);
  ::waitpid(node.pid, nullptr, 0);
  fs::remove(inside / "ballast");
  auto before_restart = file_text(log).size();
  node_on_tmpfs again(holder, disk, log);
  CHECK(eventually([&] { return metric(again.port, "vigil_checkpoints_total") >= 1; }, std::chrono::seconds(60)));
  ::kill(again.pid, SIGTERM);
  int status = -1;
  ::waitpid(again.pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto restart_log = file_text(log).substr(before_restart);
  INFO(restart_log);
  CHECK(restart_log.find("corrupt") == std::string::npos);
  std::ifstream decisions(inside / "decisions.jsonl");
  std::size_t lines = 0, whole = 0;
  for (std::string line; std::getline(decisions, line); ++lines)
    whole += nlohmann::json::accept(line) ? 1 : 0;
  CHECK(lines >= written_before);  // nothing written before was lost
  CHECK(whole == lines);
  ::kill(holder, SIGTERM);
  ::waitpid(holder, nullptr, 0);
}
