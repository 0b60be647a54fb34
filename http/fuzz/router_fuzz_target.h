#pragma once
// Fuzzing entry: the first line of the input is "METHOD TARGET", the rest is
// the body; returns the HTTP status the router answered with.

#include <cstddef>
#include <cstdint>

namespace vigil::http {
int fuzz_route_once(const std::uint8_t* data, std::size_t size);
}
