// Cluster-wide merchant state as plain C++: where each global shard lives,
// what crosses nodes, how a holder applies records exactly once, and how a
// sender keeps each shard's records in order.

#include "pipeline/cluster/hosted_merchant_shard.h"
#include "pipeline/cluster/merchant_placement.h"
#include "pipeline/cluster/merchant_request_queue.h"
#include "pipeline/cluster/merchant_wire.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace vigil;
using namespace vigil::cluster;

namespace {

std::vector<pipeline::work_item> stream(int n, std::int32_t partition = 0) {
  pipeline::simulator_options o;
  o.seed = 11;
  o.users = 300;
  o.expected_count = n;
  pipeline::transaction_simulator sim(o);
  std::vector<pipeline::work_item> out;
  for (int i = 0; i < n; ++i) {
    pipeline::work_item w;
    w.sequence = static_cast<std::uint64_t>(i);
    w.tx = sim.next().tx;
    w.position = {partition, i};
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<merchant_update> as_updates(const std::vector<pipeline::work_item>& items) {
  std::vector<merchant_update> out;
  for (const auto& w : items)
    out.push_back(merchant_update_of(w, true));
  return out;
}

std::vector<std::int64_t> offsets_of(const std::vector<merchant_update>& updates) {
  std::vector<std::int64_t> out;
  for (const auto& u : updates)
    out.push_back(u.offset);
  return out;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
           return (std::isnan(x) && std::isnan(y)) || x == y;
         });
}

} // namespace

TEST_CASE("merchant placement: every shard has one holder, all nodes agree, a change moves few shards",
          "[unit][cluster]") {
  const std::vector<std::string> three{"a", "b", "c"}, reordered{"c", "a", "b"}, four{"a", "b", "c", "d"},
    two{"a", "c"};
  std::map<std::string, int> held;
  int moved_on_join = 0, moved_on_leave = 0;
  for (int g = 0; g < merchant_shard_count; ++g) {
    auto holder = merchant_shard_holder(g, three);
    ++held[holder];
    CHECK(holder == merchant_shard_holder(g, reordered));
    auto after_join = merchant_shard_holder(g, four);
    // Joining only takes shards for the newcomer; leaving only gives up the leaver's.
    CHECK((after_join == holder || after_join == "d"));
    moved_on_join += after_join != holder ? 1 : 0;
    auto after_leave = merchant_shard_holder(g, two);
    CHECK((after_leave == holder || holder == "b"));
    moved_on_leave += after_leave != holder ? 1 : 0;
  }
  CHECK(held.size() == 3);
  for (const auto& [name, count] : held)
    CHECK(count >= 10);  // 64 over three: none starved
  CHECK(moved_on_join > 0);
  CHECK(moved_on_join < 32);
  CHECK(moved_on_leave == held["b"]);
  CHECK(merchant_shard_holder(5, {}).empty());
  auto holders = merchant_shard_holders(reordered);
  REQUIRE(holders.size() == static_cast<std::size_t>(merchant_shard_count));
  for (int g = 0; g < merchant_shard_count; ++g)
    CHECK(holders[g] == merchant_shard_holder(g, three));
  // Local merchant actors divide the global shards: one global shard, one local actor.
  for (const auto& w : stream(200))
    for (int local : {1, 2, 4, 8})
      CHECK(merchant_shard_of(w.tx.merchant_id) % local == pipeline::shard_of(w.tx.merchant_id, local));
}

TEST_CASE("merchant wire: updates round-trip, anything malformed is refused", "[unit][cluster]") {
  auto updates = as_updates(stream(20, 3));
  updates[4].label = pipeline::travelling_label{123, true};
  updates[5].what = merchant_update::kind::read;
  updates[6].what = merchant_update::kind::label;
  auto bytes = encode_merchant_updates(updates);
  auto back = decode_merchant_updates(bytes);
  REQUIRE(back);
  REQUIRE(back->size() == updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) {
    CHECK((*back)[i].what == updates[i].what);
    CHECK((*back)[i].partition == 3);
    CHECK((*back)[i].offset == updates[i].offset);
    CHECK((*back)[i].merchant_id == updates[i].merchant_id);
    CHECK((*back)[i].user_id == updates[i].user_id);
    CHECK((*back)[i].amount == updates[i].amount);
    CHECK((*back)[i].event_time_ms == updates[i].event_time_ms);
    CHECK((*back)[i].label.has_value() == updates[i].label.has_value());
  }
  CHECK((*back)[4].label->known_at_ms == 123);
  CHECK((*back)[4].label->is_fraud);

  CHECK_FALSE(decode_merchant_updates(bytes.substr(0, bytes.size() - 1)));  // truncated
  CHECK_FALSE(decode_merchant_updates(bytes + "x"));                       // trailing bytes
  auto other_version = bytes;
  other_version[0] = 9;
  CHECK_FALSE(decode_merchant_updates(other_version));
  auto bad_kind = bytes;
  bad_kind[5] = 7;  // the first update's kind
  CHECK_FALSE(decode_merchant_updates(bad_kind));
  merchant_update huge;
  huge.merchant_id.assign(5000, 'm');
  CHECK_FALSE(decode_merchant_updates(encode_merchant_updates({huge})));
  std::string too_many = encode_merchant_updates({});
  too_many[1] = too_many[2] = too_many[3] = too_many[4] = '\xff';  // a count of 4 billion
  CHECK_FALSE(decode_merchant_updates(too_many));
  CHECK(decode_merchant_updates(encode_merchant_updates({}))->empty());
}

TEST_CASE("hosted merchant shard: a replayed record is never applied twice, and gets its first answer",
          "[unit][cluster]") {
  auto items = stream(400);
  pipeline::merchant_shard reference(600'000);
  auto once = items;
  reference.process(once, true);

  hosted_merchant_shard host(600'000, {});
  auto first = host.apply(as_updates({items.begin(), items.begin() + 300}));
  CHECK(first.changed.size() == 300);
  CHECK(first.features.size() == 300u * merchant_feature_count);
  // The first answers are the stream's own merchant features.
  std::vector<float> expected;
  for (int i = 0; i < 300; ++i)
    append_merchant_features(once[i].features, expected);
  CHECK(same_floats(first.features, expected));

  // A restart from offset 200 resends 200..399: 200..299 are read only.
  auto again = host.apply(as_updates({items.begin() + 200, items.end()}));
  CHECK(again.changed.size() == 100);
  CHECK(again.changed.front().offset == 300);
  CHECK(again.features.size() == 200u * merchant_feature_count);
  CHECK(host.replays_skipped() == 100);
  CHECK(host.marks().at(0) == 399);
  CHECK(host.merchants() == reference.merchants());
  // The replayed records were answered exactly as the first time, not from
  // the state that now holds them.
  const auto width = static_cast<std::size_t>(merchant_feature_count);
  CHECK(same_floats({again.features.begin(), again.features.begin() + 100 * width},
                    {first.features.begin() + 200 * width, first.features.end()}));
  expected.clear();
  for (int i = 200; i < 400; ++i)
    append_merchant_features(once[i].features, expected);
  CHECK(same_floats(again.features, expected));

  // Answers move with the shard's checkpoint, and go once a partition
  // checkpoint passes them.
  CHECK(host.answers_kept() == 400);
  hosted_merchant_shard moved(600'000, {});
  moved.install(host.copy_state(true).merchants, host.marks());
  REQUIRE(moved.install_answers(host.encode_answers()));
  CHECK(moved.answers_kept() == 400);
  CHECK(same_floats(moved.apply(as_updates({items.begin() + 250, items.begin() + 260})).features,
                    {expected.begin() + 50 * width, expected.begin() + 60 * width}));
  moved.forget_answers_before({{0, 390}});
  CHECK(moved.answers_kept() == 10);
  CHECK_FALSE(moved.install_answers(host.encode_answers().substr(1)));
  CHECK(moved.answers_kept() == 10);  // a malformed blob changes nothing

  // Records from another partition have marks of their own.
  auto other = stream(10, 1);
  CHECK(host.apply(as_updates(other)).changed.size() == 10);
  CHECK(host.marks().at(1) == 9);

  // Reads and HTTP updates (no partition) carry no offset to skip by.
  auto read = as_updates({items.begin(), items.begin() + 5});
  for (auto& u : read)
    u.what = merchant_update::kind::read;
  CHECK(host.apply(read).changed.empty());
  auto http = as_updates({items.begin(), items.begin() + 1});
  http[0].partition = pipeline::no_partition;
  CHECK(host.apply(http).changed.size() == 1);
}

TEST_CASE("hosted merchant shard: a checkpoint plus its log replayed is the state the holder had",
          "[unit][cluster]") {
  auto items = stream(300);
  hosted_merchant_shard live(600'000, {});
  live.apply(as_updates({items.begin(), items.begin() + 100}));
  auto checkpoint = live.copy_state(true);
  auto marks = live.marks();
  std::vector<std::vector<merchant_update>> log;
  log.push_back(live.apply(as_updates({items.begin() + 100, items.begin() + 200})).changed);
  merchant_update label;
  label.what = merchant_update::kind::label;
  label.merchant_id = items[150].tx.merchant_id;
  label.event_time_ms = items[150].tx.event_time_ms;
  label.label = pipeline::travelling_label{0, true};
  log.push_back(live.apply({label}).changed);
  log.push_back(live.apply(as_updates({items.begin() + 150, items.end()})).changed);  // half a replay
  CHECK(log.back().size() == 100);

  hosted_merchant_shard next(600'000, {});
  next.install(std::move(checkpoint.merchants), marks);
  for (const auto& entry : log)
    next.replay(*decode_merchant_updates(encode_merchant_updates(entry)));
  CHECK(next.merchants() == live.merchants());
  CHECK(next.marks() == live.marks());
  CHECK(next.merchants().at(label.merchant_id).labels_30d.totals(label.event_time_ms).marked == 1);
}

TEST_CASE("high-water marks encode as text and refuse anything else", "[unit][cluster]") {
  high_water_marks marks{{0, 12}, {7, 4'000'000'000}};
  CHECK(encode_marks(marks) == "0=12,7=4000000000");
  CHECK(decode_marks(encode_marks(marks)) == marks);
  CHECK(decode_marks("")->empty());
  for (const char* bad : {"0=", "=1", "a=1", "1=2,", "1=2,,3=4", "-1=5", "1=2x"})
    CHECK_FALSE(decode_marks(bad));
}

TEST_CASE("merchant request queue: one request per shard in flight, in order, retried whole", "[unit][cluster]") {
  merchant_request_queue q(1000);
  auto items = stream(60);
  CHECK(q.add_batch(1, {items.begin(), items.begin() + 30}).empty());
  CHECK(q.add_batch(2, {items.begin() + 30, items.end()}).empty());
  CHECK(q.add_batch(3, {}).size() == 1);  // nothing to wait for
  CHECK(q.waiting_batches() == 2);
  auto shards = q.sendable();
  REQUIRE(!shards.empty());
  std::map<int, std::vector<merchant_update>> sent;
  for (int g : shards) {
    sent[g] = *decode_merchant_updates(q.take_request(g));
    CHECK(q.in_flight(g));
    // Offsets go out in order within each shard.
    CHECK(std::is_sorted(sent[g].begin(), sent[g].end(),
                         [](const merchant_update& a, const merchant_update& b) { return a.offset < b.offset; }));
    for (const auto& u : sent[g])
      CHECK(merchant_shard_of(u.merchant_id) == g);
  }
  CHECK(q.sendable().empty());  // all in flight: nothing more goes out

  // A failed shard keeps its place: the same updates go again.
  const int g0 = shards.front();
  q.failed(g0);
  CHECK(!q.in_flight(g0));
  CHECK(offsets_of(*decode_merchant_updates(q.take_request(g0))) == offsets_of(sent[g0]));

  // An answer of the wrong size changes nothing.
  CHECK_FALSE(q.answered(g0, std::vector<float>(1, 0.f)));
  CHECK(q.in_flight(g0));

  // Batches complete once every shard answered for them, features filled in.
  std::size_t completed = 0;
  for (int g : shards) {
    std::vector<float> features(sent[g].size() * merchant_feature_count, static_cast<float>(g));
    auto done = q.answered(g, features);
    REQUIRE(done);
    for (auto& [id, batch] : *done) {
      CHECK((id == 1 || id == 2));
      CHECK(batch.size() == 30);
      for (const auto& w : batch)
        CHECK(w.features[first_merchant_feature] == static_cast<float>(merchant_shard_of(w.tx.merchant_id)));
      ++completed;
    }
  }
  CHECK(completed == 2);
  CHECK(q.waiting_batches() == 0);
  CHECK(q.queued_updates() == 0);

  // Labels queue behind records and are answered with no features.
  q.add_label("m-1", 5, true);
  auto g = merchant_shard_of("m-1");
  REQUIRE(q.sendable() == std::vector<int>{g});
  auto label = decode_merchant_updates(q.take_request(g));
  REQUIRE(label->size() == 1);
  CHECK(label->front().what == merchant_update::kind::label);
  CHECK(q.answered(g, {})->empty());
}

TEST_CASE("merchant request queue: a request carries at most its bound, the rest follows", "[unit][cluster]") {
  merchant_request_queue q(4);
  std::vector<pipeline::work_item> same_merchant(10, stream(1).front());
  for (std::size_t i = 0; i < same_merchant.size(); ++i)
    same_merchant[i].position.offset = static_cast<std::int64_t>(i);
  q.add_batch(7, same_merchant);
  auto g = merchant_shard_of(same_merchant.front().tx.merchant_id);
  std::vector<std::int64_t> offsets;
  std::size_t done = 0;
  while (!q.sendable().empty()) {
    auto sent = *decode_merchant_updates(q.take_request(g));
    CHECK(sent.size() <= 4);
    for (const auto& u : sent)
      offsets.push_back(u.offset);
    done += q.answered(g, std::vector<float>(sent.size() * merchant_feature_count))->size();
  }
  CHECK(offsets == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(done == 1);
}
