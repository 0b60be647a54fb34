// The /predict coalescer: passes start at once when idle, join what waits
// behind them, keep kinds apart and bound what may wait.

#include "http/predict_coalescer.h"

#include <catch2/catch.hpp>

using vigil::http::predict_coalescer;
using vigil::http::predict_job;
using vigil::http::predict_job_ptr;
using vigil::pipeline::transaction;

namespace {

transaction make_tx(const std::string& id, const std::string& user, const std::string& merchant, std::int64_t time_ms) {
  transaction tx;
  tx.transaction_id = id;
  tx.user_id = user;
  tx.merchant_id = merchant;
  tx.event_time_ms = time_ms;
  return tx;
}

predict_job_ptr make_job(std::vector<transaction> txs, bool update) {
  auto job = std::make_shared<predict_job>();
  job->transactions = std::move(txs);
  job->update = update;
  return job;
}

} // namespace

TEST_CASE("the coalescer starts a pass at once when idle and joins what waits behind it", "[unit][http]") {
  predict_coalescer c(1, 1000, 10);
  auto tx = make_tx("t", "u", "m", 0);
  REQUIRE(c.add(make_job({tx}, false)));
  auto first = c.next();
  REQUIRE(first);
  CHECK(first->jobs.size() == 1);  // nothing waits for a batch to fill
  CHECK_FALSE(c.next());           // the only slot is taken
  REQUIRE(c.add(make_job({tx, tx}, false)));
  REQUIRE(c.add(make_job({tx}, false)));
  REQUIRE(c.add(make_job({tx}, true)));  // another kind: its own pass
  CHECK(c.queued_items() == 4);
  CHECK_FALSE(c.add(make_job(std::vector<transaction>(7, tx), false)));  // queue bound: 10
  c.finished();
  auto second = c.next();
  REQUIRE(second);
  CHECK(second->jobs.size() == 2);
  CHECK(second->offsets == std::vector<std::size_t>{0, 2});
  CHECK(second->items == 3);
  CHECK_FALSE(second->update);
  c.finished();
  auto third = c.next();
  REQUIRE(third);
  CHECK(third->update);
  CHECK(c.queued_items() == 0);
}

TEST_CASE("a pass holds whole jobs up to its item cap, oldest kind first", "[unit][http]") {
  predict_coalescer c(4, 3, 100);
  auto tx = make_tx("t", "u", "m", 0);
  c.add(make_job({tx, tx}, true));
  c.add(make_job({tx}, false));
  c.add(make_job({tx, tx}, true));
  c.add(make_job({tx, tx, tx, tx}, true));
  auto a = c.next(), b = c.next(), d = c.next(), e = c.next();
  REQUIRE((a && b && d && e));
  CHECK(a->update);
  CHECK(a->items == 2);  // the next update job would pass the cap of 3
  CHECK_FALSE(b->update);
  CHECK(d->items == 2);
  CHECK(e->items == 4);  // a single larger job still goes whole
}
