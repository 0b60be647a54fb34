// The /predict gateway: the actor path through real user shards, merchant
// shards and scorers (the coalescing logic: tests/http/predict_coalescer_test.cpp).

#include "actors/pipeline/feature_actors.h"
#include "actors/pipeline/predict_gateway.h"
#include "actors/pipeline/scorer_actor.h"
#include "pipeline/stream/keyed_shards.h"
#include "config/runtime_config.h"
#include "http/expensive_lane.h"
#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/test_registry.h"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

using namespace vigil;
using namespace vigil::actors;
using vigil::http::predict_job;
using vigil::http::predict_job_ptr;
using json = nlohmann::json;

namespace {

pipeline::transaction make_tx(const std::string& id, const std::string& user, const std::string& merchant,
                              std::int64_t time_ms) {
  pipeline::transaction tx;
  tx.transaction_id = id;
  tx.user_id = user;
  tx.merchant_id = merchant;
  tx.amount = 42.5;
  tx.currency = "EUR";
  tx.merchant_category = "grocery";
  tx.country = "DE";
  tx.event_time_ms = time_ms;
  return tx;
}

predict_job_ptr make_job(std::vector<pipeline::transaction> txs, bool update) {
  auto job = std::make_shared<predict_job>();
  job->transactions = std::move(txs);
  job->update = update;
  job->features = true;  // the tests compare the scored vectors
  return job;
}

// Collects answers from any thread; waits are bounded.
struct answers {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int, http::outcome<std::vector<std::string>>> by_job;

  http::decisions_continuation for_job(int index) {
    return [this, index](http::outcome<std::vector<std::string>> r) {
      std::lock_guard<std::mutex> lock(mutex);
      REQUIRE(by_job.count(index) == 0);  // answered exactly once
      by_job.emplace(index, std::move(r));
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(60), [&] { return by_job.size() >= n; });
  }
  json decision(int job, std::size_t item = 0) {
    std::lock_guard<std::mutex> lock(mutex);
    return json::parse(std::get<std::vector<std::string>>(by_job.at(job)).at(item));
  }
};

struct gateway_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<user_shard_actor> users;
  std::vector<merchant_shard_actor> merchants;
  std::vector<scorer_actor> scorers;
  model_ptr model;
  predict_gateway_actor gateway;
  std::shared_ptr<http::expensive_lane> lane;

  explicit gateway_fixture(std::size_t max_in_flight, bool with_lane = false) {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    models::model_registry registry{testing::trained_registry()};
    model = models::load_scoring_model(registry, registry.production()->version);
    auto config = std::make_shared<const config::runtime_config>();
    for (int i = 0; i < 2; ++i)
      scorers.push_back(spawn_scorer_actor(*sys, sink_actor{}, model, config, nullptr));
    for (int j = 0; j < 2; ++j)
      merchants.push_back(spawn_merchant_feature_actor(*sys, j, 2, scorers, 600'000, pipeline::state_bounds{}, nullptr));
    for (int i = 0; i < 2; ++i)
      users.push_back(spawn_user_feature_actor(*sys, i, merchants, 600'000, pipeline::state_bounds{}, nullptr));
    if (with_lane)
      lane = std::make_shared<http::expensive_lane>(1, 4, 0);
    predict_gateway_wiring wiring{users, merchants, scorers, decision_listener_actor{}, lane, nullptr};
    wiring.max_in_flight = max_in_flight;
    gateway = spawn_predict_gateway(*sys, wiring);
  }
  ~gateway_fixture() {
    if (lane)
      lane->stop();
    caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
    auto stop = [](const auto& actors) {
      for (const auto& a : actors)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    };
    stop(users);
    stop(merchants);
    stop(scorers);
    sys.reset();
  }
};

} // namespace

TEST_CASE("concurrent /predict jobs share passes and each gets the stream's features", "[integration][actors]") {
  gateway_fixture f(1);
  auto passes_before = pipeline::metrics().get_counter("vigil_predict_passes_total", "").value();
  // State to read: two update jobs for user u-0 first (in order), then many
  // read-only jobs at once.
  answers got;
  const std::int64_t t0 = 1'700'000'000'000;
  caf::anon_send(f.gateway, predict_atom::value, [&] {
    auto j = make_job({make_tx("w-1", "u-0", "m-0", t0), make_tx("w-2", "u-0", "m-1", t0 + 60'000)}, true);
    j->done = got.for_job(-1);
    return j;
  }());
  const int jobs = 200;
  for (int i = 0; i < jobs; ++i) {
    auto j = make_job({make_tx("r-" + std::to_string(i), "u-" + std::to_string(i % 10),
                               "m-" + std::to_string(i % 3), t0 + 120'000)}, false);
    j->done = got.for_job(i);
    caf::anon_send(f.gateway, predict_atom::value, j);
  }
  REQUIRE(got.wait_for(jobs + 1));
  auto passes = pipeline::metrics().get_counter("vigil_predict_passes_total", "").value() - passes_before;
  CHECK(passes < static_cast<std::uint64_t>(jobs) / 2);  // coalesced: one slot, 201 jobs

  // The same functions on plain shards give the same features.
  pipeline::user_shard users(600'000);
  pipeline::merchant_shard merchants(600'000);
  work_batch writes(2);
  writes[0].tx = make_tx("w-1", "u-0", "m-0", t0);
  writes[1].tx = make_tx("w-2", "u-0", "m-1", t0 + 60'000);
  users.process(writes, true);
  merchants.process(writes, true);
  const auto& names = pipeline::feature_names();
  for (int i = 0; i < jobs; ++i) {
    auto d = got.decision(i);
    CHECK(d["transaction_id"] == "r-" + std::to_string(i));
    work_batch read(1);
    read[0].tx = make_tx("r", "u-" + std::to_string(i % 10), "m-" + std::to_string(i % 3), t0 + 120'000);
    users.process(read, false);
    merchants.process(read, false);
    for (std::size_t k = 0; k < names.size(); ++k) {
      auto value = d["features"][names[k]];
      if (std::isnan(read[0].features[k]))
        CHECK(value.is_null());
      else
        CHECK(value.get<float>() == read[0].features[k]);
    }
  }
  // The update job: w-2 was scored after w-1 was folded in, as in the stream.
  auto w2 = got.decision(-1, 1);
  for (std::size_t k = 0; k < names.size(); ++k)
    if (!std::isnan(writes[1].features[k]))
      CHECK(w2["features"][names[k]].get<float>() == writes[1].features[k]);
}

TEST_CASE("expensive jobs get every reason, finished on the lane", "[integration][actors]") {
  gateway_fixture f(4, true);
  answers got;
  auto job = make_job({make_tx("x-1", "u-1", "m-1", 1'700'000'000'000)}, false);
  job->explain = true;
  job->expensive = true;
  job->done = got.for_job(0);
  caf::anon_send(f.gateway, predict_atom::value, job);
  REQUIRE(got.wait_for(1));
  auto d = got.decision(0);
  CHECK(d["transaction_id"] == "x-1");
  CHECK_FALSE(d["reasons"].empty());  // approved or not: explained
}

namespace {

// A user shard that hangs on its first /predict hop (never answers it) and
// passes later batches through untouched.
user_shard_actor::behavior_type hangs_once(user_shard_actor::pointer self) {
  auto held = std::make_shared<std::vector<caf::typed_response_promise<batch_ptr>>>();
  return {
    [](user_batch_atom, std::uint64_t, batch_ptr) {},
    [](user_label_atom, const std::string&, std::int64_t, bool) {},
    [=](predict_atom, batch_ptr batch, bool) {
      auto promise = self->make_response_promise<batch_ptr>();
      if (held->empty())
        held->push_back(promise);
      else
        promise.deliver(std::move(batch));
      return promise;
    },
    [](snapshot_atom, bool) { return snapshot_ptr{}; },
    [](install_atom, snapshot_ptr) {},
    [](revoke_atom, partition_list_ptr) {},
    [](config_atom, config_ptr) {},
  };
}

} // namespace

TEST_CASE("a pass that outlives its deadline fails its jobs and frees its slot", "[integration][actors]") {
  gateway_fixture f(1);
  auto hung = f.sys->spawn(hangs_once);
  predict_gateway_wiring wiring{{hung}, f.merchants, f.scorers, decision_listener_actor{}, nullptr, nullptr};
  wiring.max_in_flight = 1;  // a pass that kept its slot would stall every later job
  wiring.pass_deadline = std::chrono::milliseconds(200);
  auto gateway = spawn_predict_gateway(*f.sys, wiring);
  struct stop_at_end {  // even when a check fails, or the system waits forever
    caf::actor a, b;
    ~stop_at_end() {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    }
  } stop{caf::actor_cast<caf::actor>(gateway), caf::actor_cast<caf::actor>(hung)};
  auto& expired = pipeline::metrics().get_counter("vigil_predict_passes_expired_total", "");
  const auto expired_before = expired.value();
  answers got;
  for (int i = 0; i < 2; ++i) {
    auto job = make_job({make_tx("d-" + std::to_string(i), "u-1", "m-1", 1'700'000'000'000)}, false);
    job->done = got.for_job(i);
    caf::anon_send(gateway, predict_atom::value, job);
  }
  REQUIRE(got.wait_for(2));
  {
    std::lock_guard<std::mutex> lock(got.mutex);
    auto* failed = std::get_if<vigil_error>(&got.by_job.at(0));
    REQUIRE(failed);
    CHECK(failed->code == vigil_errc::pipeline_unavailable);
  }
  CHECK(got.decision(1)["transaction_id"] == "d-1");  // the next pass ran
  CHECK(expired.value() == expired_before + 1);
}
