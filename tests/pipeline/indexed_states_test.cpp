// The flat lookup index beside the state map agrees with the map after any
// sequence of inserts and erases (runs shifted back on erase, growth,
// copies), and prefetching changes nothing.

#include "pipeline/features/indexed_states.h"

#include <catch2/catch.hpp>

#include <random>

using namespace vigil::pipeline;

namespace {

struct counter_state {
  int value = 0;
};

// Every key of the key space is found exactly when the reference holds it,
// with the reference's value.
void check_agrees(indexed_states<counter_state>& states, const std::unordered_map<std::string, int>& reference,
                  int key_space) {
  REQUIRE(states.size() == reference.size());
  REQUIRE(states.all().size() == reference.size());
  for (int k = 0; k < key_space; ++k) {
    const auto key = "k" + std::to_string(k);
    auto* found = states.find(key);
    auto expected = reference.find(key);
    REQUIRE((found != nullptr) == (expected != reference.end()));
    if (found)
      REQUIRE(found->value == expected->second);
  }
}

} // namespace

TEST_CASE("indexed states: finds agree with a plain map through random inserts, erases and copies", "[unit][state]") {
  std::mt19937 rng(7);
  constexpr int key_space = 600;  // small enough for long runs and many shifts on erase
  indexed_states<counter_state> states;
  std::unordered_map<std::string, int> reference;
  for (int step = 0; step < 20'000; ++step) {
    const auto key = "k" + std::to_string(rng() % key_space);
    if (rng() % 3 == 0) {
      CHECK(states.erase(key) == (reference.erase(key) == 1));
    } else {
      auto [state, created] = states.try_emplace(key);
      CHECK(created == (reference.count(key) == 0));
      state->value += 1;
      reference[key] += 1;
    }
    if (step % 1'000 == 0)
      check_agrees(states, reference, key_space);
  }
  check_agrees(states, reference, key_space);

  auto copy = states;  // a copy indexes its own entries
  states.erase(reference.begin()->first);
  check_agrees(copy, reference, key_space);
  auto moved = std::move(copy);
  check_agrees(moved, reference, key_space);

  std::vector<std::string> keys;
  for (int k = 0; k < key_space; ++k)
    keys.push_back("k" + std::to_string(k));
  moved.prefetch(keys.begin(), keys.end(), [](const std::string& key) -> const std::string& { return key; });
  check_agrees(moved, reference, key_space);
}

TEST_CASE("indexed states: erasing everything leaves an empty index that fills again", "[unit][state]") {
  indexed_states<counter_state> states;
  for (int k = 0; k < 1'000; ++k)
    states["k" + std::to_string(k)].value = k;
  for (int k = 0; k < 1'000; ++k)
    REQUIRE(states.erase("k" + std::to_string(k)));
  CHECK(states.size() == 0);
  CHECK(states.find("k1") == nullptr);
  CHECK_FALSE(states.erase("k1"));
  CHECK_THROWS_AS(states.at("k1"), std::out_of_range);
  states["k1"].value = 5;
  CHECK(states.at("k1").value == 5);
}
