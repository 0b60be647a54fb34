#pragma once
// The rules a transaction's fields must meet, shared by the two readers of
// transaction JSON (the strict DOM reader, which names every error, and the
// direct reader, which only decides), so a rule is written once.

#include <string_view>

namespace vigil::pipeline::rules {

/// Why a string field's value is refused, or nullptr; "longer than" is
/// reported as the returned text followed by the limit and " bytes".
const char* text_problem(std::string_view s, bool required, std::size_t max_bytes);
/// Why an amount (finite) is refused, or nullptr.
const char* amount_problem(double amount);
/// True for exactly `len` upper-case ASCII letters.
bool is_upper_code(std::string_view s, std::size_t len);
bool channel_known(std::string_view channel);  ///< pos, online, atm, mobile
bool latitude_in_range(double lat);
bool longitude_in_range(double lon);

} // namespace vigil::pipeline::rules
