#include "models/registry/model_registry.h"

#include <catch2/catch.hpp>

#include <filesystem>

#include <unistd.h>

using namespace vigil::models;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("vigil-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

} // namespace

TEST_CASE("registered models get increasing versions and start as candidates", "[unit][registry]") {
  model_registry r{fresh_dir("versions")};
  CHECK(r.add("{\"a\":1}", {{"threshold", 0.3}}) == 1);
  CHECK(r.add("{\"a\":2}", {{"threshold", 0.4}}) == 2);
  auto all = r.list();
  REQUIRE(all.size() == 2);
  CHECK(all[0].stage == model_stage::candidate);
  CHECK(all[1].metadata["threshold"] == 0.4);
  CHECK(r.model_json(2) == "{\"a\":2}");
  CHECK_FALSE(r.production().has_value());
}

TEST_CASE("promoting to production archives the previous production model", "[unit][registry]") {
  auto dir = fresh_dir("promote");
  model_registry r{dir};
  r.add("{}", {});
  r.add("{}", {});
  r.set_stage(1, model_stage::production);
  REQUIRE(r.production().has_value());
  CHECK(r.production()->version == 1);
  r.set_stage(2, model_stage::production);
  REQUIRE(r.production().has_value());
  CHECK(r.production()->version == 2);
  REQUIRE(r.find(1).has_value());
  CHECK(r.find(1)->stage == model_stage::archived);
  // The registry is durable: a new handle sees the same stages.
  model_registry reopened{dir};
  REQUIRE(reopened.production().has_value());
  CHECK(reopened.production()->version == 2);
  CHECK_THROWS_AS(r.set_stage(9, model_stage::production), registry_error);
  CHECK_THROWS_AS(r.model_json(9), registry_error);
}

TEST_CASE("stage names convert both ways", "[unit][registry]") {
  CHECK(stage_from_string("shadow") == model_stage::shadow);
  CHECK_FALSE(stage_from_string("live").has_value());
  CHECK(std::string(to_string(model_stage::archived)) == "archived");
}
