// `vigil run` as an operator starts it: the token from the environment, and
// the default token refused when the node listens beyond loopback.

#include "support/test_registry.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

using namespace vigil;

namespace {

struct run_result {
  int status = -1;
  std::string err;
};

// Runs `vigil run` on 100 simulated transactions listening on every address.
run_result run_exposed(const std::filesystem::path& dir, const std::string& environment) {
  auto command = environment + " " + VIGIL_BINARY + " run --http-port 0 --rate 0 --count 100 --registry " +
                 testing::trained_registry().string() + " --snapshot " + (dir / "state").string() +
                 " --decisions " + (dir / "decisions.jsonl").string() + " --set http_address=0.0.0.0,labels_path=" +
                 (dir / "labels.jsonl").string() + ",auth_token_path=" + (dir / "token").string() + " 2> " +
                 (dir / "err.txt").string();
  run_result r;
  int raw = std::system(command.c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(dir / "err.txt");
  std::stringstream text;
  text << in.rdbuf();
  r.err = text.str();
  return r;
}

} // namespace

TEST_CASE("vigil run refuses the default token off loopback and takes one from the environment",
          "[integration][cli][security]") {
  auto refused = run_exposed(testing::scratch_dir("run-default-token"), "env -u VIGIL_AUTH_TOKEN");
  INFO(refused.err);
  CHECK(refused.status != 0);
  CHECK(refused.err.find("the default token is refused when http_address is not loopback") != std::string::npos);
  auto started = run_exposed(testing::scratch_dir("run-env-token"), "VIGIL_AUTH_TOKEN=from-the-environment-1");
  INFO(started.err);
  CHECK(started.status == 0);
  CHECK(started.err.find("vigil: stopped; in 100") != std::string::npos);
  CHECK(started.err.find("WARNING") == std::string::npos);  // not the default token
}
