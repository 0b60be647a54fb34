#include "actors/pipeline/scorer_actor.h"

#include "models/drift/live_drift.h"
#include "models/serving/batch_scoring.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <atomic>

namespace vigil::actors {
namespace {

struct scorer_state {
  model_ptr model;
  config_ptr config;
  sink_actor sink;
  std::shared_ptr<models::drift_tracker> drift;
  pipeline::histogram* score_seconds = nullptr;

  models::decision_thresholds thresholds() const {
    double review = config->review_threshold >= 0 ? config->review_threshold : model->threshold;
    return {review, std::max(review, config->decline_threshold)};
  }
  std::vector<int> masked;  ///< indexes of disabled features
  rules::rule_set rules;    ///< compiled once per config version
  pipeline::gauge* mailbox = nullptr;

  void set_config(config_ptr next) {
    if (!config || !(next->rules == config->rules))
      rules = rules::rule_set::compile(next->rules);  // validated with the config: compiles
    config = std::move(next);
    masked.clear();
    const auto& names = pipeline::feature_names();
    for (const auto& name : config->disabled_features)
      for (int i = 0; i < pipeline::feature_count; ++i)
        if (name == names[i])
          masked.push_back(i);
  }
  decision_batch_ptr score(const work_batch& batch, bool reasons_for_all) const {
    auto start = steady_now_ns();
    auto out = std::make_shared<decision_batch>(models::score_batch(
      batch, *model, thresholds(), reasons_for_all || config->reasons_for_approved, masked, true, &rules));
    if (!batch.empty())
      score_seconds->observe((steady_now_ns() - start) / 1e9 / batch.size());
    if (drift)  // after the timing: it measures the model
      drift->add(*out, *model);
    return out;
  }
};

scorer_actor::behavior_type scorer(scorer_actor::stateful_pointer<scorer_state> self, sink_actor sink,
                                   model_ptr model, config_ptr config,
                                   std::shared_ptr<models::drift_tracker> drift) {
  self->state.model = std::move(model);
  self->state.drift = std::move(drift);
  self->state.set_config(std::move(config));
  self->state.sink = std::move(sink);
  static std::atomic<int> scorer_count{0};
  self->state.mailbox = &pipeline::metrics().get_gauge(
    "vigil_mailbox_depth{actor=\"scorer\",index=\"" + std::to_string(scorer_count++) + "\"}",
    "Messages waiting in an actor's mailbox (sampled when it handles one)");
  self->state.score_seconds = &pipeline::metrics().get_histogram(
    "vigil_score_seconds_per_record", "Model evaluation time per record (forest + reasons)");
  return {
    [=](score_atom, std::uint64_t batch_id, batch_ptr batch) {
      self->state.mailbox->set(static_cast<double>(self->mailbox().size()));
      self->send(self->state.sink, decisions_atom::value, batch_id, self->state.score(*batch, false));
    },
    [=](predict_atom, batch_ptr batch, bool flagged_reasons) {
      auto& s = self->state;
      auto out = std::make_shared<scored_batch>();
      out->model = s.model;
      out->decisions =
        models::score_batch(*batch, *s.model, s.thresholds(), false, s.masked, flagged_reasons, &s.rules);
      return scored_batch_ptr{out};
    },
    [=](model_atom, model_ptr next) { self->state.model = std::move(next); },
    [=](config_atom, config_ptr next) { self->state.set_config(std::move(next)); },
  };
}

} // namespace

scorer_actor spawn_scorer_actor(caf::actor_system& sys, sink_actor sink, model_ptr model,
                                config_ptr config, std::shared_ptr<models::drift_tracker> drift) {
  return sys.spawn(scorer, std::move(sink), std::move(model), std::move(config), std::move(drift));
}

} // namespace vigil::actors
