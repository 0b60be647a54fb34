#include "pipeline/schema/strict_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil::pipeline;
using json = nlohmann::json;

namespace {

strict_json_result parse(const std::string& text) {
  json out;
  return parse_strict_json(text, out);
}

std::string object_of(int keys, const char* repeat = nullptr) {
  std::string text = "{";
  for (int i = 0; i < keys; ++i)
    text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  if (repeat)
    text += std::string(",\"") + repeat + "\":0";
  return text + "}";
}

} // namespace

TEST_CASE("strict JSON: what the lenient parser accepts, except duplicates and depth", "[unit][schema]") {
  json out;
  REQUIRE(parse_strict_json(R"({"a":[1,{"b":2},{"b":3}],"c":{"d":null}})", out).ok);
  CHECK(out["a"][2]["b"] == 3);  // the same key in sibling objects is fine
  auto dup = parse(R"({"a":[1,{"b":2,"b":3}]})");
  CHECK_FALSE(dup.ok);
  CHECK(dup.field == "a[1].b");
  CHECK(dup.reason == "duplicate key");
  auto broken = parse(R"({"a":)");
  CHECK(broken.field == "$");
  CHECK(broken.reason.find("malformed JSON at byte") == 0);
  CHECK(parse(std::string(max_json_depth, '[') + std::string(max_json_depth, ']')).ok);
  auto deep = parse(std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']'));
  CHECK(deep.reason.find("nested deeper than") == 0);
}

TEST_CASE("strict JSON: duplicates are found in large objects too, in linear time", "[unit][schema]") {
  CHECK(parse(object_of(15, "k3")).field == "k3");   // scanned
  CHECK(parse(object_of(40, "k3")).field == "k3");   // hashed
  CHECK(parse(object_of(40, "k39")).field == "k39");
  CHECK(parse(object_of(100'000)).ok);  // quadratic scanning would take minutes
}
