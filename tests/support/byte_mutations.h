#pragma once
// The mutations the in-suite fuzz tests apply to their seeds: 1 to 8 random
// edits (a byte replaced, up to 4 bytes erased, a JSON-ish byte inserted).

#include <random>
#include <string>

namespace vigil::testing {

inline std::string mutated(std::string input, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && !input.empty(); ++e) {
    auto pos = rng() % input.size();
    switch (rng() % 3) {
      case 0: input[pos] = static_cast<char>(rng() % 256); break;
      case 1: input.erase(pos, 1 + rng() % 4); break;
      default: input.insert(pos, 1, "{}[]\",:0-e.\\\x00"[rng() % 13]); break;
    }
  }
  return input;
}

} // namespace vigil::testing
