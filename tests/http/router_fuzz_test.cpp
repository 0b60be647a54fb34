// Drives the same entry point as the libFuzzer target with many random and
// mutated inputs: the router must answer every one with a status, never crash.

#include "http/fuzz/router_fuzz_target.h"
#include "tests/support/byte_mutations.h"

#include <catch2/catch.hpp>

#include <random>

TEST_CASE("the request router answers arbitrary bytes without crashing", "[unit][http][fuzz]") {
  std::mt19937_64 rng{42};
  const std::vector<std::string> seeds = {
    "POST /predict\n{\"transaction_id\":\"t\",\"user_id\":\"u\",\"amount\":1,\"currency\":\"EUR\","
    "\"merchant\":{\"id\":\"m\",\"category\":\"grocery\"},\"timestamp\":\"2024-01-01T00:00:00Z\","
    "\"location\":{\"country\":\"DE\"}}",
    "POST /feedback\n[{\"transaction_id\":\"a\",\"is_fraud\":true}]",
    "PUT /config\n{\"batch_size\":5}", "GET /metrics\n", "POST /models/7/promote\n"};
  int answered = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto input = vigil::testing::mutated(seeds[rng() % seeds.size()], rng);
    int status = vigil::http::fuzz_route_once(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    answered += (status >= 200 && status < 600) ? 1 : 0;
  }
  CHECK(answered == 20'000);
}
