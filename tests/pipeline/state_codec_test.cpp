#include "pipeline/features/feature_store.h"
#include "pipeline/features/state_codec.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace vigil::pipeline;

namespace {

bool same_bits(const feature_vector& a, const feature_vector& b) {
  return std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

} // namespace

TEST_CASE("state sizes are bounded per key", "[unit][state]") {
  // Documented in entity_state.h: 4,144 bytes per user, 3,296 per merchant.
  CHECK(sizeof(user_state) <= 4144);
  CHECK(sizeof(merchant_state) <= 3296);
  // Encoded: one version byte plus the fields, no padding.
  CHECK(encode(user_state{}).size() <= sizeof(user_state) + 1);
  CHECK(encode(merchant_state{}).size() <= sizeof(merchant_state) + 1);
}

TEST_CASE("user and merchant state round-trip exactly through the codec", "[unit][state]") {
  simulator_options o;
  o.expected_count = 20'000;
  o.seed = 3;
  transaction_simulator sim{o};
  feature_store store;
  for (int i = 0; i < 20'000; ++i) {
    auto r = sim.next();
    store.features(r.tx, true);
    if (i % 7 == 0)
      store.apply_label(r.tx.merchant_id, r.tx.event_time_ms, r.label->is_fraud);
  }
  feature_store restored;
  for (const auto& [id, state] : store.users()) {
    auto decoded = decode_user_state(encode(state));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == state);
    restored.users()[id] = *decoded;
  }
  for (const auto& [id, state] : store.merchants()) {
    auto decoded = decode_merchant_state(encode(state));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == state);
    restored.merchants()[id] = *decoded;
  }
  // The restored store scores the following records bit for bit the same.
  for (int i = 0; i < 2'000; ++i) {
    auto r = sim.next();
    REQUIRE(same_bits(store.features(r.tx, true), restored.features(r.tx, true)));
  }
}

TEST_CASE("decoding refuses a wrong version or a truncated buffer", "[unit][state]") {
  user_state s;
  s.records = 7;
  auto bytes = encode(s);
  CHECK(decode_user_state(bytes).has_value());
  CHECK_FALSE(decode_user_state(bytes.substr(0, bytes.size() - 1)).has_value());
  CHECK_FALSE(decode_user_state(bytes + "x").has_value());
  bytes[0] = static_cast<char>(state_codec_version + 1);
  CHECK_FALSE(decode_user_state(bytes).has_value());
  CHECK_FALSE(decode_merchant_state(encode(s)).has_value());
}

TEST_CASE("a store snapshot round-trips state and positions byte for byte", "[unit][state]") {
  simulator_options o;
  o.expected_count = 5'000;
  transaction_simulator sim{o};
  feature_store store;
  for (int i = 0; i < 5'000; ++i)
    store.features(sim.next().tx, true);
  store_snapshot snap{{{"transactions/0", 1234}, {"transactions/1", 99}}, store.users(), store.merchants()};
  auto bytes = encode_snapshot(snap);
  auto back = decode_snapshot(bytes);
  REQUIRE(back.has_value());
  CHECK(back->positions == snap.positions);
  CHECK(back->users.size() == store.users().size());
  CHECK(back->users.at("u-1") == store.users().at("u-1"));
  CHECK(encode_snapshot(*back) == bytes);
  CHECK_FALSE(decode_snapshot(bytes.substr(0, bytes.size() - 3)).has_value());
  CHECK_FALSE(decode_snapshot("not a snapshot").has_value());
}
