// Drives the same entry point as the libFuzzer target vigil_schema_fuzz with
// many mutated inputs: the transaction and label parsers answer every one.

#include "pipeline/fuzz/schema_fuzz_target.h"
#include "tests/support/byte_mutations.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

TEST_CASE("the transaction and label parsers take arbitrary bytes without crashing", "[unit][schema][fuzz]") {
  std::mt19937_64 rng{7};
  const std::vector<std::string> seeds = {
    R"({"transaction_id":"t","user_id":"u","amount":1.5,"currency":"EUR","merchant":{"id":"m","category":"grocery"},)"
    R"("timestamp":"2024-02-29T23:59:59.999Z","location":{"country":"DE","lat":52.5,"lon":13.4},"device_id":"d","channel":"pos"})",
    R"([{"transaction_id":"a","is_fraud":true,"label_time":"2024-01-01T00:00:00Z","source":"chargeback"}])"};
  int parsed_valid = 0;
  for (const auto& s : seeds)
    parsed_valid += vigil::pipeline::fuzz_parse_once(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  CHECK(parsed_valid >= 2);  // the seeds themselves are accepted: the target reaches the parsers
  for (int i = 0; i < 20'000; ++i) {
    auto input = vigil::testing::mutated(seeds[rng() % seeds.size()], rng);
    vigil::pipeline::fuzz_parse_once(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  }
  SUCCEED("20,000 mutated inputs parsed or refused");
}
