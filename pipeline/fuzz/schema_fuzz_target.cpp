#include "pipeline/fuzz/schema_fuzz_target.h"

#include "pipeline/schema/label_event.h"
#include "pipeline/schema/strict_json.h"
#include "pipeline/schema/transaction_direct_reader.h"
#include "pipeline/schema/transaction_json.h"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil::pipeline {

namespace {

// The direct reader accepts only what the tree reader accepts, and reads
// the same transactions (compared through their JSON text, which keeps
// every bit of a double, the sign of zero included).
void check_direct_reader(std::string_view text, const nlohmann::json* tree) {
  for (auto unknown : {unknown_fields::allow, unknown_fields::refuse}) {
    auto direct = read_transactions_directly(text, unknown, 1000);
    if (!direct)
      continue;
    if (!tree || direct->array != tree->is_array())
      __builtin_trap();
    auto same = [&](const nlohmann::json& item, const labelled_transaction& read) {
      auto by_tree = transaction_from_json(item, unknown);
      if (!by_tree.value || to_json(*by_tree.value).dump() != to_json(read).dump())
        __builtin_trap();
    };
    if (!direct->array) {
      same(*tree, direct->items.front());
    } else {
      if (tree->size() != direct->items.size())
        __builtin_trap();
      for (std::size_t i = 0; i < tree->size(); ++i)
        same((*tree)[i], direct->items[i]);
    }
  }
}

} // namespace

int fuzz_parse_once(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bool parsed = parse_strict_json(text, j).ok;
  check_direct_reader(text, parsed ? &j : nullptr);
  if (!parsed)
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
