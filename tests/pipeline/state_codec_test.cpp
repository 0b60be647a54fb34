#include "pipeline/features/feature_store.h"
#include "pipeline/features/recent_set.h"
#include "pipeline/features/state_codec.h"
#include "pipeline/features/store_snapshot.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <stdexcept>

using namespace vigil::pipeline;

namespace {

bool same_bits(const feature_vector& a, const feature_vector& b) {
  return std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

} // namespace

TEST_CASE("state sizes are bounded per key", "[unit][state]") {
  // Documented in entity_state.h: 5,136 bytes per user, 3,328 per merchant
  // (plus the labels each holds back, at most max_pending_labels of them).
  CHECK(sizeof(user_state) <= 5136);
  CHECK(sizeof(merchant_state) <= 3328);
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
    else if (i % 7 == 3)  // held back until its label time
      store.hold_label(r.tx, r.label->label_time_ms, r.label->is_fraud);
  }
  std::size_t holding = 0;
  for (const auto& [id, state] : store.merchants()) {
    CHECK(encode(state)[0] == state_codec_version_sparse);
    holding += state.pending_labels.empty() ? 0 : 1;
  }
  CHECK(holding > 10);
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
  bytes[0] = static_cast<char>(state_codec_version_sparse + 1);
  CHECK_FALSE(decode_user_state(bytes).has_value());
  CHECK_FALSE(decode_merchant_state(encode(s)).has_value());
}

TEST_CASE("a user checkpointed before users held labels still decodes", "[unit][state]") {
  user_state s;
  s.records = 9;
  s.max_event_time_ms = 1'709'251'200'000;
  auto v2 = encode_as(s, state_codec_version_pending_labels);
  REQUIRE(v2[0] == state_codec_version_pending_labels);
  // Version 1 was the same fields without the labelled window (30 buckets
  // of 32 bytes) and the held labels (two 8-byte counts when none is held).
  std::string v1 = std::string(1, static_cast<char>(state_codec_version)) + v2.substr(1, v2.size() - 1 - 30 * 32 - 16);
  auto old = decode_user_state(v1);
  REQUIRE(old.has_value());
  CHECK(*old == s);
  CHECK_FALSE(decode_user_state(v1 + "x").has_value());
}

TEST_CASE("states are written sparse, in fewer bytes than dense, and every older layout still reads",
          "[unit][state]") {
  simulator_options o;
  // About 44 records a user, as in the streaming bench's latency runs.
  o.expected_count = 100'000;
  o.seed = 5;
  transaction_simulator sim{o};
  feature_store store;
  for (int i = 0; i < 44'000; ++i) {
    auto r = sim.next();
    store.features(r.tx, true);
    if (i % 5 == 0)
      store.hold_label(r.tx, r.label->label_time_ms, r.label->is_fraud);
  }
  std::size_t sparse_bytes = 0, dense_bytes = 0;
  for (const auto& [id, state] : store.users()) {
    auto sparse = encode(state);
    auto dense = encode_as(state, state_codec_version_pending_labels);
    sparse_bytes += sparse.size();
    dense_bytes += dense.size();
    auto from_sparse = decode_user_state(sparse);
    auto from_dense = decode_user_state(dense);
    REQUIRE(from_sparse.has_value());
    REQUIRE(from_dense.has_value());
    CHECK(*from_sparse == state);
    CHECK(*from_dense == state);
  }
  for (const auto& [id, state] : store.merchants()) {
    auto from_sparse = decode_merchant_state(encode(state));
    REQUIRE(from_sparse.has_value());
    CHECK(*from_sparse == state);
    if (state.pending_labels.empty() && state.labels_taken_early == 0) {
      auto from_v1 = decode_merchant_state(encode_as(state, state_codec_version));
      REQUIRE(from_v1.has_value());
      CHECK(*from_v1 == state);
    }
  }
  INFO("sparse " << sparse_bytes << " bytes, dense " << dense_bytes << " for " << store.users().size() << " users");
  CHECK(sparse_bytes * 3 < dense_bytes * 2);  // about half in practice
  CHECK_THROWS_AS(encode_as(user_state{}, 0), std::invalid_argument);
}

TEST_CASE("a slot that differs from an empty one only in the sign of a zero is kept", "[unit][state]") {
  user_state s;
  s.amounts_1h.buckets()[3].sum = -0.0;  // not bit for bit empty
  s.merchants.entries()[2].last_seen_ms = 1;
  auto decoded = decode_user_state(encode(s));
  REQUIRE(decoded.has_value());
  CHECK(std::signbit(decoded->amounts_1h.buckets()[3].sum));
  CHECK(decoded->merchants.entries()[2].last_seen_ms == 1);
  CHECK(*decoded == s);
  // A mask naming a slot past the window's last is refused: the first
  // window (10 buckets) comes right after the version byte.
  auto bytes = encode(user_state{});
  REQUIRE(bytes.size() > 5);
  bytes[1 + 1] = static_cast<char>(bytes[1 + 1] | 0x04);  // bit 10
  CHECK_FALSE(decode_user_state(bytes).has_value());
}

namespace {

// Users of 5,000 simulated records, each owned by partition (hash % 4).
store_snapshot simulated_snapshot() {
  simulator_options o;
  o.expected_count = 5'000;
  transaction_simulator sim{o};
  feature_store store;
  for (int i = 0; i < 5'000; ++i)
    store.features(sim.next().tx, true);
  store_snapshot snap;
  snap.positions = {{0, 1234}, {1, 99}, {2, 7}, {3, 0}};
  snap.users = store.users();
  snap.merchants = store.merchants();
  for (const auto& [id, state] : snap.users)
    snap.user_partitions[id] = static_cast<std::int32_t>(stable_hash(id.data(), id.size()) % 4);
  snap.user_partitions.erase("u-1");  // one user no partition owns
  return snap;
}

} // namespace

TEST_CASE("a store snapshot round-trips state, owners and positions byte for byte", "[unit][state]") {
  auto snap = simulated_snapshot();
  auto bytes = encode_snapshot(snap);
  auto back = decode_snapshot(bytes);
  REQUIRE(back.has_value());
  CHECK(back->positions == snap.positions);
  CHECK(back->users.size() == snap.users.size());
  CHECK(back->users.at("u-1") == snap.users.at("u-1"));
  CHECK(back->user_partitions == snap.user_partitions);
  CHECK(back->partition_of_user("u-1") == no_partition);
  CHECK(encode_snapshot(*back) == bytes);
  CHECK_FALSE(decode_snapshot(bytes.substr(0, bytes.size() - 3)).has_value());
  CHECK_FALSE(decode_snapshot("not a snapshot").has_value());
}

TEST_CASE("a snapshot splits into partition parts and a node part that rebuild it exactly",
          "[unit][state]") {
  auto snap = simulated_snapshot();
  store_snapshot rebuilt = node_part(snap);
  CHECK(rebuilt.positions.empty());
  CHECK(rebuilt.users.size() == 1);  // only the unowned user
  CHECK(rebuilt.merchants.size() == snap.merchants.size());
  std::size_t users_in_parts = 0;
  for (std::int32_t p = 0; p < 4; ++p) {
    auto part = partition_part(snap, p);
    REQUIRE(part.positions.size() == 1);
    CHECK(part.positions.at(p) == snap.positions.at(p));
    CHECK(part.merchants.empty());
    for (const auto& [id, owner] : part.user_partitions)
      CHECK(owner == p);
    CHECK(part.users.size() == part.user_partitions.size());
    users_in_parts += part.users.size();
    rebuilt.absorb(decode_snapshot(encode_snapshot(part)).value());
  }
  CHECK(users_in_parts + 1 == snap.users.size());
  CHECK(encode_snapshot(rebuilt) == encode_snapshot(snap));
  CHECK(partition_part(snap, 9).users.empty());
}
