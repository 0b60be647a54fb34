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

/// Shadow decisions by (production outcome, shadow outcome) and path.
struct shadow_counters {
  pipeline::counter* pairs[2][3][3] = {};  ///< [stream 0 / predict 1][production][shadow]

  shadow_counters() {
    const char* paths[] = {"stream", "predict"};
    for (int p = 0; p < 2; ++p)
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          pairs[p][a][b] = &pipeline::metrics().get_counter(
            std::string("vigil_shadow_decisions_total{path=\"") + paths[p] + "\",production=\"" +
              models::to_string(static_cast<models::decision_kind>(a)) + "\",shadow=\"" +
              models::to_string(static_cast<models::decision_kind>(b)) + "\"}",
            "Decisions the shadow (a candidate model and rule set) made, by what production decided and "
            "what the shadow did");
  }
};

shadow_counters& shadow_metrics() {
  static shadow_counters c;
  return c;
}

struct scorer_state {
  model_ptr model;
  model_ptr shadow_model;  ///< as the node last sent it (see shadow_model_now)
  config_ptr config;
  sink_actor sink;
  std::shared_ptr<models::drift_tracker> drift;
  pipeline::histogram* score_seconds = nullptr;

  models::decision_thresholds thresholds() const { return thresholds_of(*model); }
  models::decision_thresholds thresholds_of(const models::scoring_model& m) const {
    double review = config->review_threshold >= 0 ? config->review_threshold : m.threshold;
    return {review, std::max(review, config->decline_threshold)};
  }
  std::vector<int> masked;  ///< indexes of disabled features
  rules::rule_set rules;    ///< compiled once per config version
  rules::rule_set shadow_rules;
  pipeline::gauge* mailbox = nullptr;

  void set_config(config_ptr next) {
    // Validated with the config: they compile.
    if (!config || !(next->rules == config->rules))
      rules = rules::rule_set::compile(next->rules);
    if (!config || !(next->shadow_rules == config->shadow_rules))
      shadow_rules = rules::rule_set::compile(next->shadow_rules);
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
    if (config->shadow_enabled) {
      auto shadow = score_shadow(batch, *out, 0, true);
      out->insert(out->end(), std::make_move_iterator(shadow.begin()), std::make_move_iterator(shadow.end()));
    }
    return out;
  }
  /// The shadow's model: the served one for version 0; null while the
  /// configured version has not arrived yet (no shadow decision then, rather
  /// than one by the wrong model).
  const models::scoring_model* shadow_model_now() const {
    if (config->shadow_model_version == 0)
      return model.get();
    return shadow_model && shadow_model->version == config->shadow_model_version ? shadow_model.get() : nullptr;
  }
  /// The shadow's decisions of `batch` (marked shadow), counted against
  /// production's by `path` (0 stream, 1 /predict); they never replace
  /// production's.
  decision_batch score_shadow(const work_batch& batch, const decision_batch& production, int path,
                              bool flagged_reasons) const {
    const auto* m = shadow_model_now();
    if (!m)
      return {};
    auto shadow = models::score_batch(batch, *m, thresholds_of(*m), false, masked, flagged_reasons, &shadow_rules);
    auto& counters = shadow_metrics();
    for (std::size_t i = 0; i < shadow.size(); ++i) {
      shadow[i].shadow = true;
      counters.pairs[path][static_cast<int>(production[i].decision)][static_cast<int>(shadow[i].decision)]->add();
    }
    return shadow;
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
      if (s.config->shadow_enabled)  // counted, not answered
        s.score_shadow(*batch, out->decisions, 1, false);
      return scored_batch_ptr{out};
    },
    [=](model_atom, model_ptr next) { self->state.model = std::move(next); },
    [=](shadow_model_atom, model_ptr shadow) { self->state.shadow_model = std::move(shadow); },
    [=](config_atom, config_ptr next) { self->state.set_config(std::move(next)); },
  };
}

} // namespace

scorer_actor spawn_scorer_actor(caf::actor_system& sys, sink_actor sink, model_ptr model,
                                config_ptr config, std::shared_ptr<models::drift_tracker> drift) {
  return sys.spawn(scorer, std::move(sink), std::move(model), std::move(config), std::move(drift));
}

} // namespace vigil::actors
