#pragma once
// Fuzzing entry for the input parsers: arbitrary bytes are parsed as JSON
// and, when they parse, read as a transaction and as a label (each object
// of an array too). Returns how many items were accepted; must never crash.

#include <cstddef>
#include <cstdint>

namespace vigil::pipeline {
int fuzz_parse_once(const std::uint8_t* data, std::size_t size);
}
