// The test harness itself: servers it starts do not outlive their owner.

#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil;

namespace {

// Exists and is not a zombie (an exited process nobody reaped yet).
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0)
    return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, command, state;
  stat >> pid_field >> command >> state;
  return state != "Z" && state != "X";
}

} // namespace

TEST_CASE("a harness server stops by itself when the test process that owns it dies",
          "[integration][harness]") {
  // A stand-in for a crashing test binary: a process that ends on its own.
  pid_t owner = ::fork();
  if (owner == 0) {
    ::execlp("sleep", "sleep", "3", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  auto dir = testing::scratch_dir("harness-owner").string() + "/redis";
  auto command = "VIGIL_HARNESS_OWNER=" + std::to_string(owner) + " " + VIGIL_SOURCE_DIR +
                 "/tests/harness/start_redis.sh " + dir + " >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  pid_t redis = 0;
  std::ifstream(dir + "/redis.pid") >> redis;
  REQUIRE(redis > 0);
  CHECK(alive(redis));  // running while its owner is

  ::waitpid(owner, nullptr, 0);  // the owner is gone, without stopping anything
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (alive(redis) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  bool stopped = !alive(redis);
  if (!stopped)
    ::kill(redis, SIGKILL);
  CHECK(stopped);
}
