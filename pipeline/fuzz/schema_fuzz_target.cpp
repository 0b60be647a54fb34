#include "pipeline/fuzz/schema_fuzz_target.h"

#include "pipeline/schema/label_event.h"
#include "pipeline/schema/strict_json.h"
#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil::pipeline {

int fuzz_parse_once(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j;
  if (!parse_strict_json({reinterpret_cast<const char*>(data), size}, j).ok)
    return 0;
  int accepted = 0;
  auto read = [&](const nlohmann::json& item) {
    auto strict = transaction_from_json(item, unknown_fields::refuse);
    auto tx = transaction_from_json(item, unknown_fields::allow);
    if (strict.value && !tx.value)
      __builtin_trap();  // refusing unknown fields can only refuse more
    if (tx.value) {
      ++accepted;
      // What was accepted must print back as JSON without throwing.
      (void)to_json(tx.value->tx).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    accepted += label_from_json(item, 1'700'000'000'000).value ? 1 : 0;
  };
  if (j.is_array())
    for (const auto& item : j)
      read(item);
  else
    read(j);
  return accepted;
}

} // namespace vigil::pipeline

#ifdef VIGIL_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vigil::pipeline::fuzz_parse_once(data, size);
  return 0;
}
#endif
