// The plain parts the source actor is a shell over: batcher, credit window
// with the pause rule, checkpoint barrier, partition hand-over.

#include "pipeline/stream/checkpoint_barrier.h"
#include "pipeline/stream/credit_window.h"
#include "pipeline/stream/partition_handover.h"
#include "pipeline/stream/record_batcher.h"

#include <catch2/catch.hpp>

using namespace vigil::pipeline;

namespace {
constexpr std::int64_t ms = 1'000'000;
}

TEST_CASE("a batch is due when full, past its deadline, or at the end of the input", "[unit][stream]") {
  record_batcher b;
  CHECK_FALSE(b.due(1, 0, 0, true));  // an empty batch is never due
  b.fill(100 * ms).resize(3);
  CHECK(b.room(5) == 2);
  CHECK_FALSE(b.due(5, 20 * ms, 110 * ms, false));
  CHECK(b.due(5, 20 * ms, 120 * ms, false));  // the deadline counts from when filling started
  CHECK(b.due(3, 20 * ms, 101 * ms, false));  // full
  CHECK(b.due(5, 20 * ms, 101 * ms, true));   // the input finished
  b.fill(115 * ms).resize(4);                  // filling more does not restart the clock
  CHECK(b.due(5, 20 * ms, 120 * ms, false));
  CHECK(b.room(2) == 0);  // the target shrank below what is held
  CHECK(b.take().size() == 4);
  CHECK(b.empty());
  b.fill(200 * ms).resize(1);
  CHECK_FALSE(b.due(5, 20 * ms, 210 * ms, false));  // a new batch, a new clock
}

TEST_CASE("records held for a batch leave with their partition", "[unit][stream]") {
  record_batcher b;
  auto& items = b.fill(0);
  for (std::int32_t p : {0, 1, 0, 2, 1}) {
    work_item w;
    w.position.partition = p;
    w.tx.transaction_id = "from-" + std::to_string(p);
    items.push_back(w);
  }
  CHECK(b.drop_partitions({0, 2}) == 3);
  auto kept = b.take();
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].position.partition == 1);
  CHECK(kept[1].position.partition == 1);
  CHECK(b.drop_partitions({1}) == 0);  // nothing held
}

TEST_CASE("credit pauses the input only after the grace period and resumes it when back", "[unit][stream]") {
  credit_window w(2, 20 * ms);
  CHECK(w.issue() == 0);
  CHECK(w.issue() == 1);
  CHECK_FALSE(w.available());
  CHECK(w.tick(100 * ms) == credit_window::input_change::none);  // credit just ran out
  CHECK(w.tick(119 * ms) == credit_window::input_change::none);
  CHECK(w.tick(120 * ms) == credit_window::input_change::pause);
  CHECK(w.paused());
  CHECK(w.tick(130 * ms) == credit_window::input_change::none);  // paused once
  w.release(7);                                                  // unknown: ignored
  CHECK(w.in_flight() == 2);
  w.release(0);
  CHECK(w.available());
  CHECK(w.tick(131 * ms) == credit_window::input_change::resume);
  CHECK_FALSE(w.paused());
  // A short stall is ridden out: the grace restarts each time credit runs out.
  w.issue();
  CHECK(w.tick(140 * ms) == credit_window::input_change::none);
  w.release(1);
  CHECK(w.tick(150 * ms) == credit_window::input_change::none);
  w.issue();
  CHECK(w.tick(165 * ms) == credit_window::input_change::none);  // 15 ms, not 25
  w.set_limit(4);  // live config: more credit
  CHECK(w.available());
  // Live config: a longer grace rides out a stall the old one paused for.
  w.set_grace(1'000 * ms);
  CHECK(w.tick(170 * ms) == credit_window::input_change::none);  // credit back: the grace restarts
  w.issue();
  w.issue();
  w.issue();
  CHECK_FALSE(w.available());
  CHECK(w.tick(200 * ms) == credit_window::input_change::none);
  CHECK(w.tick(1'199 * ms) == credit_window::input_change::none);
  CHECK(w.tick(1'200 * ms) == credit_window::input_change::pause);
}

TEST_CASE("the checkpoint barrier flushes, copies once drained, and answers requests in order", "[unit][stream]") {
  checkpoint_barrier b;
  b.start(0);
  using step = checkpoint_barrier::step;
  CHECK(b.next(true, 3) == step::read);
  auto first = b.request();
  CHECK(first == 1);
  CHECK(b.next(true, 3) == step::flush);   // dispatch what is held
  CHECK(b.next(false, 1) == step::flush);  // wait for what is in flight
  CHECK(b.next(false, 0) == step::copy);
  auto plan = b.copy_started();
  CHECK(plan.number == 1);
  CHECK_FALSE(plan.full);
  CHECK(b.next(false, 0) == step::hold);  // copying
  // A request while this one runs waits for the next checkpoint.
  CHECK(b.request() == 2);
  b.copy_taken();
  CHECK(b.next(false, 0) == step::flush);  // the next copy waits for the running save
  CHECK(b.finished(false, 50 * ms) == 1);  // not stored
  CHECK(b.next(false, 0) == step::copy);
  auto second = b.copy_started();
  CHECK(second.number == 2);
  CHECK(second.full);  // the failed save's changes must be written again
  b.copy_taken();
  CHECK(b.finished(true, 60 * ms) == 2);
  CHECK(b.next(false, 0) == step::read);
  b.on_interval(70 * ms, 100 * ms);
  CHECK(b.next(false, 0) == step::read);
  b.on_interval(161 * ms, 100 * ms);  // 100 ms after the last ended
  CHECK(b.requested());
}

TEST_CASE("revoked partitions are checkpointed before they go, and assignments wait for them", "[unit][stream]") {
  SECTION("a lost assignment or no checkpoint store: released at once") {
    partition_handover lost(true), uncheckpointed(false);
    CHECK(lost.next({1}, true, {}, 0).kind == partition_handover::action_kind::release_now);
    CHECK(uncheckpointed.next({1}, false, {}, 0).kind == partition_handover::action_kind::release_now);
  }
  SECTION("released after the checkpoint that copied them") {
    partition_handover h(true);
    h.checkpoint_started(4);  // already running before the revocation: does not cover it
    auto step = h.next({1, 2}, false, {3}, 0);
    CHECK(step.kind == partition_handover::action_kind::checkpoint_first);
    CHECK(step.partitions == std::vector<std::int32_t>{1, 2});
    CHECK(h.next({1, 2}, false, {3}, 0).kind == partition_handover::action_kind::none);  // no assignment meanwhile
    CHECK_FALSE(h.release_after(4));
    h.checkpoint_started(5);
    h.checkpoint_started(6);
    CHECK_FALSE(h.release_after(6));
    CHECK(h.release_after(5));
    h.released();
    auto next = h.next({}, false, {3}, 0);
    CHECK(next.kind == partition_handover::action_kind::restore);
    CHECK(next.partitions == std::vector<std::int32_t>{3});
  }
  SECTION("a failed restore is retried a second later") {
    partition_handover h(true);
    h.restore_failed(10 * ms);
    CHECK(h.next({}, false, {3}, 500 * ms).kind == partition_handover::action_kind::none);
    CHECK(h.next({}, false, {3}, 1010 * ms).kind == partition_handover::action_kind::restore);
  }
}
