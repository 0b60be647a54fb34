#include "actors/pipeline/predict_gateway.h"

#include "actors/pipeline/actor_errors.h"
#include "http/predict_coalescer.h"
#include "models/drift/live_drift.h"
#include "models/serving/decision_json.h"
#include "pipeline/stream/keyed_shards.h"
#include "http/expensive_lane.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <algorithm>

namespace vigil::actors {
namespace {

/// Hops wait without a CAF timeout: a finite one costs the clock thread two
/// wake-ups per hop (set, then cancel), and took 12% of the node's CPU per
/// single /predict. A pass still cannot hang: the watchdog tick fails what
/// outlives its deadline (predict_gateway_wiring::pass_deadline), and any
/// answer arriving after that is dropped. A shard or scorer that exits
/// fails its hop at once (CAF answers pending requests to a dead actor).
const caf::duration no_hop_timeout{caf::infinite};
/// Below this many items per scorer a pass is not split across scorers.
constexpr std::size_t min_items_per_scorer = 64;

/// A pass on its way. Its jobs are answered, and its slot released, only
/// through here, so each happens once whoever comes first: the pass's own
/// answers, a failed hop, or the watchdog.
struct pass_run {
  std::shared_ptr<const http::predict_pass> pass;
  std::vector<bool> answered;  ///< per job
  std::int64_t deadline_ns = 0;
  bool over = false;  ///< the slot is released; late answers are dropped
};
using run_ptr = std::shared_ptr<pass_run>;

struct gateway_state {
  predict_gateway_wiring wiring;
  std::unique_ptr<http::predict_coalescer> coalescer;
  std::vector<run_ptr> running;  ///< at most max_in_flight
  std::size_t next_scorer = 0;
  pipeline::counter* passes = nullptr;
  pipeline::counter* requests = nullptr;
  pipeline::counter* refused = nullptr;
  pipeline::gauge* queued = nullptr;
  pipeline::counter* expired = nullptr;
};

using gateway_ptr = predict_gateway_actor::stateful_pointer<gateway_state>;
using failure = std::function<void(const caf::error&)>;

// Sends each shard the items whose key hashes to it (in pass order, so
// updates apply in arrival order), puts the answers back in place, then
// calls `next` once every shard answered, or `fail` once.
template <class Shard, class Key, class Next>
void through_shards(gateway_ptr self, const std::vector<Shard>& shards, batch_ptr items,
                    bool update, Key key, Next next, failure fail) {
  auto n = static_cast<int>(shards.size());
  std::vector<batch_ptr> parts(n);
  std::vector<std::shared_ptr<std::vector<std::size_t>>> where(n);
  // Each item's shard first, so that every part is allocated once at its
  // size (growing them moved every item of a large pass several times).
  std::vector<int> shard_of_item(items->size());
  std::vector<std::size_t> counts(n);
  for (std::size_t i = 0; i < items->size(); ++i)
    ++counts[shard_of_item[i] = pipeline::shard_of(key((*items)[i]), n)];
  for (int s = 0; s < n; ++s)
    if (counts[s] > 0) {
      parts[s] = std::make_shared<work_batch>();
      parts[s]->reserve(counts[s]);
      where[s] = std::make_shared<std::vector<std::size_t>>();
      where[s]->reserve(counts[s]);
    }
  for (std::size_t i = 0; i < items->size(); ++i) {
    parts[shard_of_item[i]]->push_back(std::move((*items)[i]));
    where[shard_of_item[i]]->push_back(i);
  }
  auto remaining = std::make_shared<int>(0);
  auto failed = std::make_shared<bool>(false);
  for (const auto& p : parts)
    *remaining += p ? 1 : 0;
  for (int s = 0; s < n; ++s) {
    if (!parts[s])
      continue;
    auto positions = where[s];
    self->request(shards[s], no_hop_timeout, predict_atom::value, parts[s], update)
      .then(
        [=](batch_ptr answered) {
          if (*failed)
            return;
          for (std::size_t k = 0; k < positions->size(); ++k)
            (*items)[(*positions)[k]] = std::move((*answered)[k]);
          if (--*remaining == 0)
            next(items);
        },
        [=](caf::error& e) {
          if (!*failed) {
            *failed = true;
            fail(e);
          }
        });
  }
}

// Answers the jobs of a pass: reasons and rendering inline for cheap jobs,
// on the expensive lane for the others.
void answer_jobs(gateway_ptr self, pass_run& run, std::size_t first_job, std::size_t end_job,
                 scored_batch& scored, std::size_t first_item) {
  const auto& pass = *run.pass;
  for (std::size_t j = first_job; j < end_job; ++j) {
    if (run.answered[j])
      continue;
    run.answered[j] = true;
    auto job = pass.jobs[j];
    auto begin = scored.decisions.begin() + static_cast<std::ptrdiff_t>(pass.offsets[j] - first_item);
    decision_batch mine(std::make_move_iterator(begin),
                        std::make_move_iterator(begin + static_cast<std::ptrdiff_t>(job->transactions.size())));
    auto finish = [job, model = scored.model, mine = std::move(mine)]() mutable {
      job->done(models::finish_decisions(mine, *model, job->explain, job->features, job->received_ns));
    };
    if (job->expensive && self->state.wiring.lane)
      self->state.wiring.lane->post(std::move(finish));
    else
      finish();
  }
}

void pump(gateway_ptr self);

void end_pass(gateway_ptr self, pass_run& run) {
  if (run.over)
    return;
  run.over = true;
  auto& running = self->state.running;
  running.erase(std::remove_if(running.begin(), running.end(), [&](const run_ptr& r) { return r.get() == &run; }),
                running.end());
  self->state.coalescer->finished();
  pump(self);
}

void fail_jobs(pass_run& run, std::size_t first_job, std::size_t end_job, const caf::error& e) {
  for (std::size_t j = first_job; j < end_job; ++j)
    if (!run.answered[j]) {
      run.answered[j] = true;
      run.pass->jobs[j]->done(to_vigil_error(e));
    }
}

void fail_pass(gateway_ptr self, pass_run& run, const caf::error& e) {
  fail_jobs(run, 0, run.pass->jobs.size(), e);
  end_pass(self, run);
}

// Fails the passes past their deadline, then looks again a while later.
void watch(gateway_ptr self) {
  auto now = pipeline::steady_now_ns();
  auto late = self->state.running;  // failing one changes the list
  for (const auto& run : late)
    if (!run->over && run->deadline_ns <= now) {
      self->state.expired->add();
      fail_pass(self, *run, caf::make_error(caf::sec::request_timeout));
    }
  auto every = std::clamp<std::chrono::milliseconds>(self->state.wiring.pass_deadline / 4, std::chrono::milliseconds(10),
                                                     std::chrono::milliseconds(1000));
  self->delayed_send(self, every, tick_atom::value);
}

// Splits the pass at job boundaries over the scorers (each job is scored by
// one scorer, so by one model), then answers every job.
void through_scorers(gateway_ptr self, run_ptr run, batch_ptr items) {
  auto& s = self->state;
  const auto& pass = run->pass;
  const auto& scorers = s.wiring.scorers;
  auto chunks = std::max<std::size_t>(1, std::min(scorers.size(), items->size() / min_items_per_scorer));
  auto target = (items->size() + chunks - 1) / chunks;
  auto remaining = std::make_shared<std::size_t>(0);
  std::vector<std::pair<std::size_t, std::size_t>> job_ranges;  // [first, end) jobs per chunk
  for (std::size_t j = 0; j < pass->jobs.size();) {
    auto first = j;
    auto start = pass->offsets[j];
    while (j < pass->jobs.size() && (j == first || pass->offsets[j] - start < target))
      ++j;
    job_ranges.emplace_back(first, j);
  }
  *remaining = job_ranges.size();
  for (auto [first, end] : job_ranges) {
    auto begin_item = pass->offsets[first];
    auto end_item = end < pass->jobs.size() ? pass->offsets[end] : items->size();
    auto chunk = std::make_shared<work_batch>(
      std::make_move_iterator(items->begin() + static_cast<std::ptrdiff_t>(begin_item)),
      std::make_move_iterator(items->begin() + static_cast<std::ptrdiff_t>(end_item)));
    auto scorer = scorers[s.next_scorer++ % scorers.size()];
    // Cheap jobs get reasons for flagged decisions from the scorer, as the
    // stream does; expensive ones get every reason on the lane.
    bool flagged_reasons = !(pass->expensive && s.wiring.lane);
    // Each chunk answers (or fails) its own jobs; the pass ends with the last.
    self->request(scorer, no_hop_timeout, predict_atom::value, chunk, flagged_reasons)
      .then(
        [=, first = first, end = end](scored_batch_ptr scored) {
          // State took these in even when the watchdog already failed the
          // pass, so labels can still join what was scored.
          if (pass->update && self->state.wiring.coordinator)
            self->send(self->state.wiring.coordinator, decisions_atom::value, std::uint64_t{0},
                       decision_batch_ptr{std::make_shared<decision_batch>(scored->decisions)});
          if (pass->update && self->state.wiring.drift)  // live traffic, as the stream's
            self->state.wiring.drift->add(scored->decisions, *scored->model);
          answer_jobs(self, *run, first, end, *scored, begin_item);
          if (--*remaining == 0)
            end_pass(self, *run);
        },
        [=, first = first, end = end](caf::error& e) {
          fail_jobs(*run, first, end, e);
          if (--*remaining == 0)
            end_pass(self, *run);
        });
  }
}

void run_pass(gateway_ptr self, http::predict_pass pass) {
  auto& s = self->state;
  s.passes->add();
  s.requests->add(pass.jobs.size());
  auto items = std::make_shared<work_batch>();
  items->reserve(pass.items);
  for (auto& job : pass.jobs)
    for (auto& tx : job->transactions) {
      work_item w;
      w.sequence = items->size();
      w.tx = std::move(tx);
      w.ingest_ns = job->received_ns;
      items->push_back(std::move(w));
    }
  auto run = std::make_shared<pass_run>();
  run->answered.assign(pass.jobs.size(), false);
  run->pass = std::make_shared<const http::predict_pass>(std::move(pass));
  run->deadline_ns = pipeline::steady_now_ns() +
                     std::chrono::duration_cast<std::chrono::nanoseconds>(s.wiring.pass_deadline).count();
  s.running.push_back(run);
  failure fail = [self, run](const caf::error& e) { fail_pass(self, *run, e); };
  bool update = run->pass->update;
  through_shards(
    self, s.wiring.user_shards, items, update, [](const work_item& w) -> const std::string& { return w.tx.user_id; },
    [=](batch_ptr with_users) {
      if (run->over)  // failed meanwhile: no further hop
        return;
      through_shards(
        self, self->state.wiring.merchant_shards, with_users, update,
        [](const work_item& w) -> const std::string& { return w.tx.merchant_id; },
        [=](batch_ptr with_merchants) {
          if (!run->over)
            through_scorers(self, run, with_merchants);
        },
        fail);
    },
    fail);
}

void pump(gateway_ptr self) {
  auto& s = self->state;
  while (auto pass = s.coalescer->next())
    run_pass(self, std::move(*pass));
  s.queued->set(static_cast<double>(s.coalescer->queued_items()));
}

predict_gateway_actor::behavior_type predict_gateway(gateway_ptr self, predict_gateway_wiring wiring) {
  auto& s = self->state;
  s.coalescer = std::make_unique<http::predict_coalescer>(wiring.max_in_flight, wiring.max_pass_items,
                                                    wiring.max_queued_items);
  s.wiring = std::move(wiring);
  auto& m = pipeline::metrics();
  s.passes = &m.get_counter("vigil_predict_passes_total", "Passes of coalesced /predict requests through shards and scorers");
  s.requests = &m.get_counter("vigil_predict_requests_total", "/predict requests answered through the gateway");
  s.refused = &m.get_counter("vigil_predict_refused_total", "/predict requests refused because the gateway queue was full");
  s.queued = &m.get_gauge("vigil_predict_queued_items", "/predict transactions waiting for a pass");
  s.expired = &m.get_counter("vigil_predict_passes_expired_total",
                             "/predict passes failed by the gateway's watchdog for outliving their deadline");
  watch(self);
  return {
    [=](predict_atom, http::predict_job_ptr job) {
      auto& st = self->state;
      if (!st.coalescer->add(job)) {
        st.refused->add();
        job->done(vigil_error(vigil_errc::overloaded, "too many /predict transactions waiting; retry later"));
        return;
      }
      pump(self);
    },
    [=](tick_atom) { watch(self); },
  };
}

} // namespace

predict_gateway_actor spawn_predict_gateway(caf::actor_system& sys, predict_gateway_wiring wiring) {
  return sys.spawn(predict_gateway, std::move(wiring));
}

} // namespace vigil::actors
