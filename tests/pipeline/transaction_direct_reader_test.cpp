// The direct reader accepts only what the strict tree reader accepts, and
// reads it to the same transaction, bit for bit: checked on simulated
// records, on mutations of them, and on the cases it leaves to the tree.

#include "pipeline/schema/strict_json.h"
#include "pipeline/schema/transaction_direct_reader.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "tests/support/byte_mutations.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <random>

using namespace vigil::pipeline;

namespace {

// The tree reader's verdict on one object or an array of them; nullopt
// when any item is refused.
std::optional<std::vector<labelled_transaction>> read_by_tree(std::string_view text, unknown_fields unknown) {
  nlohmann::json j;
  if (!parse_strict_json(text, j).ok)
    return std::nullopt;
  std::vector<labelled_transaction> out;
  auto add = [&](const nlohmann::json& item) {
    auto r = transaction_from_json(item, unknown);
    if (r.value)
      out.push_back(*r.value);
    return r.ok();
  };
  if (!j.is_array())
    return add(j) ? std::optional(out) : std::nullopt;
  if (j.empty())
    return std::nullopt;
  for (const auto& item : j)
    if (!add(item))
      return std::nullopt;
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_optional(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}

bool same(const labelled_transaction& a, const labelled_transaction& b) {
  const auto &x = a.tx, &y = b.tx;
  bool tx = x.transaction_id == y.transaction_id && x.user_id == y.user_id && same_bits(x.amount, y.amount) &&
            x.currency == y.currency && x.merchant_id == y.merchant_id && x.merchant_name == y.merchant_name &&
            x.merchant_category == y.merchant_category && x.event_time_ms == y.event_time_ms &&
            x.country == y.country && same_optional(x.latitude, y.latitude) &&
            same_optional(x.longitude, y.longitude) && x.device_id == y.device_id && x.channel == y.channel;
  bool label = a.label.has_value() == b.label.has_value() &&
               (!a.label || (a.label->is_fraud == b.label->is_fraud && a.label->pattern == b.label->pattern &&
                             a.label->label_time_ms == b.label->label_time_ms));
  return tx && label;
}

std::vector<std::string> simulated_records(int count, bool labelled) {
  simulator_options options;
  options.seed = 11;
  options.expected_count = count;
  transaction_simulator sim(options);
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    auto ltx = sim.next();
    out.push_back(labelled ? to_json(ltx).dump() : to_json(ltx.tx).dump());
  }
  return out;
}

struct verdicts {
  int direct = 0, tree = 0;
};

// Both readers on one text: whatever the direct reader accepts, the tree
// accepts too, with the same transactions.
verdicts compare(const std::string& text, unknown_fields unknown, std::size_t max_items) {
  auto direct = read_transactions_directly(text, unknown, max_items);
  auto tree = read_by_tree(text, unknown);
  if (direct) {
    INFO(text);
    REQUIRE(tree);
    REQUIRE(direct->items.size() == tree->size());
    for (std::size_t i = 0; i < tree->size(); ++i)
      REQUIRE(same(direct->items[i], (*tree)[i]));
  }
  return {direct ? 1 : 0, tree ? 1 : 0};
}

} // namespace

TEST_CASE("the direct reader reads every simulated record as the tree reader does", "[unit][schema]") {
  for (bool labelled : {false, true}) {
    auto records = simulated_records(3000, labelled);
    int direct = 0;
    for (const auto& text : records)
      direct += compare(text, unknown_fields::allow, 0).direct;
    CHECK(direct == 3000);  // the common case is the direct one
    if (!labelled)
      for (const auto& text : records)
        CHECK(compare(text, unknown_fields::refuse, 0).direct == 1);
  }
  // A label is an unknown field on /predict: left to the tree, which refuses it.
  auto labelled = simulated_records(1, true).front();
  CHECK_FALSE(read_transactions_directly(labelled, unknown_fields::refuse, 0));
  CHECK_FALSE(read_by_tree(labelled, unknown_fields::refuse));
}

TEST_CASE("the direct reader reads arrays within their bound", "[unit][schema]") {
  auto records = simulated_records(5, false);
  std::string array = "[" + records[0];
  for (int i = 1; i < 5; ++i)
    array += " ,\n" + records[i];
  array += "]";
  auto read = read_transactions_directly(array, unknown_fields::refuse, 5);
  REQUIRE(read);
  CHECK(read->array);
  CHECK(read->items.size() == 5);
  CHECK(compare(array, unknown_fields::refuse, 5).direct == 1);
  CHECK_FALSE(read_transactions_directly(array, unknown_fields::refuse, 4));  // over the bound
  CHECK_FALSE(read_transactions_directly(array, unknown_fields::refuse, 0));  // objects only
  CHECK_FALSE(read_transactions_directly("[]", unknown_fields::refuse, 5));
  auto single = read_transactions_directly(records[0], unknown_fields::refuse, 5);
  REQUIRE(single);
  CHECK_FALSE(single->array);
}

TEST_CASE("the direct reader leaves every unusual or invalid text to the tree reader", "[unit][schema]") {
  const std::string base =
    R"({"transaction_id":"t-1","user_id":"u-1","amount":12.5,"currency":"EUR",)"
    R"("merchant":{"id":"m-1","name":"Shop","category":"grocery"},"timestamp":"2024-03-01T10:15:30.250Z",)"
    R"("location":{"country":"DE","lat":52.5,"lon":13.4},"device_id":"d-1","channel":"pos"})";
  REQUIRE(compare(base, unknown_fields::refuse, 0).direct == 1);
  auto with = [&](const std::string& from, const std::string& to) {
    auto text = base;
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  // Valid, but not the common case: the tree reads them.
  for (const auto& text : {with("\"lat\":52.5", "\"lat\":-0"), with("Shop", "Caf\\u00e9"), with("Shop", "Caf\xc3\xa9"),
                           with(R"("device_id":"d-1")", R"("device_id":null)"),
                           with(R"("channel":"pos")", R"("channel":"pos","merchant_id":"m-1")")}) {
    auto v = compare(text, unknown_fields::refuse, 0);
    CHECK(v.direct == 0);
    CHECK(v.tree == 1);
  }
  // Refused by both.
  for (const auto& text : {with("\"amount\":12.5", "\"amount\":-0.0"), with("\"amount\":12.5", "\"amount\":01"),
                           with("\"amount\":12.5", "\"amount\":1e400"), with("EUR", "eur"), with("\"pos\"", "\"car\""),
                           with(R"("user_id":"u-1")", R"("user_id":"u-1","user_id":"u-2")"),
                           with(R"("user_id":"u-1")", R"("user_id":"u-1","usr":"x")"),
                           with("2024-03-01T10:15:30.250Z", "2023-02-29T10:15:30Z"), with(",\"lon\":13.4", ""),
                           with("\"lat\":52.5", "\"lat\":91"), base + " x", base.substr(0, base.size() - 1)}) {
    auto v = compare(text, unknown_fields::refuse, 0);
    CHECK(v.direct == 0);
    CHECK(v.tree == 0);
  }
}

TEST_CASE("on mutated records the direct reader never accepts what the tree refuses", "[unit][schema][fuzz]") {
  std::mt19937_64 rng{23};
  auto records = simulated_records(200, true);
  verdicts total;
  for (int i = 0; i < 30'000; ++i) {
    auto text = vigil::testing::mutated(records[rng() % records.size()], rng);
    auto v = compare(text, i % 2 ? unknown_fields::allow : unknown_fields::refuse, 0);
    total.direct += v.direct;
    total.tree += v.tree;
  }
  // Mutations that keep a record valid exist, and the direct reader takes
  // some of them (digits changed, for example).
  CHECK(total.direct > 100);
  CHECK(total.tree >= total.direct);
}
