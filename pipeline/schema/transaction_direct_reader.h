#pragma once
// Transaction JSON read straight into transactions, without a JSON tree: the
// common case (every field known, once, of the right type; strings plain
// ASCII without escapes; every rule met) costs one pass over the text. Any
// other text, valid or not, is left to the strict tree reader
// (parse_strict_json + transaction_from_json), which decides it and names
// every error, so both readers accept exactly the same transactions.

#include "pipeline/schema/transaction.h"
#include "pipeline/schema/transaction_json.h"

#include <optional>
#include <string_view>
#include <vector>

namespace vigil::pipeline {

struct direct_read {
  std::vector<labelled_transaction> items;
  bool array = false;  ///< the text was an array of objects
};

/// `max_items` 0: one object only; otherwise an array of 1 to `max_items`
/// objects is read too. nullopt: not the common case, or invalid (labels
/// are read only under unknown_fields::allow, as the tree reader does).
std::optional<direct_read> read_transactions_directly(std::string_view text, unknown_fields unknown,
                                                      std::size_t max_items);

} // namespace vigil::pipeline
