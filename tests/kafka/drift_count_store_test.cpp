// The cluster's drift counts against a real redis-server (tests/harness):
// every node's shares add up, each share once.

#include "pipeline/connectors/drift_count_store.h"
#include "support/kafka_harness.h"

#include <catch2/catch.hpp>

#include <map>

#include <unistd.h>

using namespace vigil;
using models::drift_bucket_counts;
using models::drift_counts;

namespace {

constexpr std::int64_t minute_ms = models::drift_tracker::minute_bucket_ms;
constexpr std::int64_t day_ms = models::drift_tracker::day_bucket_ms;
constexpr std::int64_t newest_ms = 1'700'000'000'000;

drift_counts share_of(std::int64_t oldest_ms, std::vector<drift_bucket_counts> minutes,
                      std::vector<drift_bucket_counts> days = {}) {
  drift_counts s;
  s.model_version = 7;
  s.counters = 4;
  s.oldest_event_ms = oldest_ms;
  s.newest_event_ms = newest_ms;
  s.minute_buckets = std::move(minutes);
  s.day_buckets = std::move(days);
  return s;
}

// Buckets by id: rows, then counts.
std::map<std::int64_t, std::vector<std::uint64_t>> by_id(const std::vector<drift_bucket_counts>& buckets) {
  std::map<std::int64_t, std::vector<std::uint64_t>> out;
  for (const auto& b : buckets) {
    auto& row = out[b.id];
    row.push_back(static_cast<std::uint64_t>(b.rows));
    row.insert(row.end(), b.counts.begin(), b.counts.end());
  }
  return out;
}

} // namespace

TEST_CASE("drift counts: every node's shares add up in Redis as in memory, each share once",
          "[integration][redis][cluster][drift]") {
  const auto& redis = testing::services().redis;
  auto prefix = "drift-store-" + std::to_string(::getpid());
  connectors::drift_count_store a{redis, prefix, "a:1"}, b{redis, prefix, "b:1"};
  const std::int64_t minute = newest_ms / minute_ms, day = newest_ms / day_ms;
  auto from_a = share_of(newest_ms - 3 * day_ms, {{minute - 1, 3, {1, 2, 0, 3}}}, {{day - 3, 1, {0, 0, 1, 0}}});
  auto from_b = share_of(newest_ms - minute_ms, {{minute - 1, 2, {1, 0, 0, 1}}, {minute, 4, {0, 4, 0, 0}}});
  // A bucket older than the windows is kept out of the totals.
  auto old = share_of(newest_ms - 60 * day_ms, {}, {{day - 60, 9, {9, 0, 0, 0}}});
  const auto added_a = a.add(from_a, 1);
  CHECK(added_a.calls == 1);  // 8 counters: one call
  CHECK(added_a.applied == 1);
  CHECK(added_a.next_sequence == 2);
  const auto added_b = b.add(from_b, 1);
  CHECK(added_b.applied == added_b.calls);
  CHECK(b.add(old, added_b.next_sequence).applied == 1);

  drift_counts expected;
  for (const auto* s : {&from_a, &from_b})
    models::add_share(expected, *s);
  auto got = a.totals(7, 4);
  CHECK(got.model_version == 7);
  CHECK(got.oldest_event_ms == newest_ms - 60 * day_ms);
  CHECK(got.newest_event_ms == newest_ms);
  CHECK(by_id(got.minute_buckets) == by_id(expected.minute_buckets));
  CHECK(by_id(got.day_buckets) == by_id(expected.day_buckets));
  CHECK(by_id(got.day_buckets).at(day) == std::vector<std::uint64_t>{9, 2, 6, 0, 4});  // both nodes' minutes

  // A share retried after a lost reply is not counted again; the next is.
  CHECK(a.add(from_a, 1).applied == 0);
  CHECK(by_id(a.totals(7, 4).minute_buckets) == by_id(expected.minute_buckets));
  CHECK(a.add(from_a, 2).applied == 1);
  CHECK(by_id(b.totals(7, 4).minute_buckets).at(minute - 1) == std::vector<std::uint64_t>{8, 3, 4, 0, 7});
  // The same node restarted is another writer: its numbers start over.
  connectors::drift_count_store a_again{redis, prefix, "a:2"};
  CHECK(a_again.add(from_a, 1).applied == 1);

  // Another model version has counts of its own; counters beyond the
  // bucket's size are not read.
  CHECK(a.totals(8, 4).empty());
  auto narrow = a.totals(7, 2);
  CHECK(by_id(narrow.minute_buckets).at(minute) == std::vector<std::uint64_t>{4, 0, 4});
}

TEST_CASE("drift counts: a share split into bounded calls adds up as one, and a retry applies only the calls "
          "that did not land",
          "[integration][redis][cluster][drift]") {
  const auto& redis = testing::services().redis;
  auto prefix = "drift-split-" + std::to_string(::getpid());
  // At most 3 counters a call ("r" counts as one): every bucket below takes
  // a call of its own, and each day's counts are summed before they go.
  connectors::drift_count_store small{redis, prefix, "small:1", 3}, whole{redis, prefix + "-whole", "whole:1"};
  const std::int64_t minute = newest_ms / minute_ms, day = newest_ms / day_ms;
  auto share = share_of(newest_ms - 2 * day_ms,
                        {{minute - 2, 1, {1, 0, 0, 0}}, {minute - 1, 2, {0, 2, 0, 0}}, {minute, 3, {0, 0, 3, 0}}},
                        {{day - 2, 4, {0, 0, 0, 4}}});
  const auto split = small.add(share, 1);
  const auto one = whole.add(share, 1);
  CHECK(one.calls == 1);
  // Three 10-minute buckets of 2 counters each, then the days in order:
  // day - 2 (2 counters), today (its three buckets summed: 4, alone).
  CHECK(split.calls == 5);
  CHECK(split.applied == split.calls);
  CHECK(split.next_sequence == 1 + split.calls);
  auto split_totals = small.totals(7, 4), one_totals = whole.totals(7, 4);
  CHECK(by_id(split_totals.minute_buckets) == by_id(one_totals.minute_buckets));
  CHECK(by_id(split_totals.day_buckets) == by_id(one_totals.day_buckets));
  CHECK(by_id(split_totals.day_buckets).at(day) == std::vector<std::uint64_t>{6, 1, 2, 3, 0});
  CHECK(split_totals.oldest_event_ms == newest_ms - 2 * day_ms);

  // What makes a retry after a partial failure exact: the script applies a
  // call only when its number is past the last one applied for the writer.
  // The whole share again with the same numbers applies nothing...
  CHECK(small.add(share, 1).applied == 0);
  // ...and numbered one further (2..6), only its last call (today, now
  // numbered 6) is past 5 and lands.
  CHECK(small.add(share, 2).applied == 1);
  auto again = small.totals(7, 4);
  CHECK(by_id(again.day_buckets).at(day) == std::vector<std::uint64_t>{12, 2, 4, 6, 0});
  CHECK(by_id(again.day_buckets).at(day - 2) == by_id(one_totals.day_buckets).at(day - 2));
  CHECK(by_id(again.minute_buckets) == by_id(one_totals.minute_buckets));
}
