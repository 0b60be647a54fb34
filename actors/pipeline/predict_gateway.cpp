#include "actors/pipeline/predict_gateway.h"

#include "actors/pipeline/actor_errors.h"
#include "http/predict_coalescer.h"
#include "models/drift/live_drift.h"
#include "models/serving/decision_json.h"
#include "pipeline/stream/keyed_shards.h"
#include "http/expensive_lane.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

constexpr auto hop_timeout = std::chrono::seconds(5);
/// Below this many items per scorer a pass is not split across scorers.
constexpr std::size_t min_items_per_scorer = 64;

struct gateway_state {
  predict_gateway_wiring wiring;
  std::unique_ptr<http::predict_coalescer> coalescer;
  std::size_t next_scorer = 0;
  pipeline::counter* passes = nullptr;
  pipeline::counter* requests = nullptr;
  pipeline::counter* refused = nullptr;
  pipeline::gauge* queued = nullptr;
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
  for (std::size_t i = 0; i < items->size(); ++i) {
    int s = pipeline::shard_of(key((*items)[i]), n);
    if (!parts[s]) {
      parts[s] = std::make_shared<work_batch>();
      where[s] = std::make_shared<std::vector<std::size_t>>();
    }
    parts[s]->push_back(std::move((*items)[i]));
    where[s]->push_back(i);
  }
  auto remaining = std::make_shared<int>(0);
  auto failed = std::make_shared<bool>(false);
  for (const auto& p : parts)
    *remaining += p ? 1 : 0;
  for (int s = 0; s < n; ++s) {
    if (!parts[s])
      continue;
    auto positions = where[s];
    self->request(shards[s], hop_timeout, predict_atom::value, parts[s], update)
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
void answer_jobs(gateway_ptr self, const http::predict_pass& pass, std::size_t first_job, std::size_t end_job,
                 scored_batch& scored, std::size_t first_item) {
  for (std::size_t j = first_job; j < end_job; ++j) {
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

void end_pass(gateway_ptr self) {
  self->state.coalescer->finished();
  pump(self);
}

void fail_jobs(const http::predict_pass& pass, std::size_t first_job, std::size_t end_job, const caf::error& e) {
  for (std::size_t j = first_job; j < end_job; ++j)
    pass.jobs[j]->done(to_vigil_error(e));
}

void fail_pass(gateway_ptr self, const http::predict_pass& pass, const caf::error& e) {
  fail_jobs(pass, 0, pass.jobs.size(), e);
  end_pass(self);
}

// Splits the pass at job boundaries over the scorers (each job is scored by
// one scorer, so by one model), then answers every job.
void through_scorers(gateway_ptr self, std::shared_ptr<const http::predict_pass> pass, batch_ptr items) {
  auto& s = self->state;
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
    self->request(scorer, hop_timeout, predict_atom::value, chunk, flagged_reasons)
      .then(
        [=, first = first, end = end](scored_batch_ptr scored) {
          if (pass->update && self->state.wiring.coordinator)  // labels join what was scored
            self->send(self->state.wiring.coordinator, decisions_atom::value, std::uint64_t{0},
                       decision_batch_ptr{std::make_shared<decision_batch>(scored->decisions)});
          if (pass->update && self->state.wiring.drift)  // live traffic, as the stream's
            self->state.wiring.drift->add(scored->decisions, *scored->model);
          answer_jobs(self, *pass, first, end, *scored, begin_item);
          if (--*remaining == 0)
            end_pass(self);
        },
        [=, first = first, end = end](caf::error& e) {
          fail_jobs(*pass, first, end, e);
          if (--*remaining == 0)
            end_pass(self);
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
  auto shared_pass = std::make_shared<const http::predict_pass>(std::move(pass));
  failure fail = [self, shared_pass](const caf::error& e) { fail_pass(self, *shared_pass, e); };
  bool update = shared_pass->update;
  through_shards(
    self, s.wiring.user_shards, items, update, [](const work_item& w) -> const std::string& { return w.tx.user_id; },
    [=](batch_ptr with_users) {
      through_shards(
        self, self->state.wiring.merchant_shards, with_users, update,
        [](const work_item& w) -> const std::string& { return w.tx.merchant_id; },
        [=](batch_ptr with_merchants) { through_scorers(self, shared_pass, with_merchants); },
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
  };
}

} // namespace

predict_gateway_actor spawn_predict_gateway(caf::actor_system& sys, predict_gateway_wiring wiring) {
  return sys.spawn(predict_gateway, std::move(wiring));
}

} // namespace vigil::actors
