#include "actors/pipeline/serving_model_actor.h"

#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

struct serving_model_state {
  model_ptr model;
  std::vector<scorer_actor> scorers;
  pipeline::gauge* version = nullptr;
};

serving_model_actor::behavior_type serving_model(serving_model_actor::stateful_pointer<serving_model_state> self,
                                                 model_ptr initial, std::vector<scorer_actor> scorers) {
  auto& s = self->state;
  s.model = std::move(initial);
  s.scorers = std::move(scorers);
  s.version = &pipeline::metrics().get_gauge("vigil_model_version", "Version of the model being served");
  s.version->set(s.model->version);
  return {
    [=](caf::get_atom) { return self->state.model; },
    [=](model_atom, model_ptr next) {
      auto& st = self->state;
      st.model = std::move(next);
      for (const auto& scorer : st.scorers)
        self->send(scorer, model_atom::value, st.model);
      st.version->set(st.model->version);
      return static_cast<std::int32_t>(st.model->version);
    },
    // The shadow's model (null: the served one), for every scorer.
    [=](shadow_model_atom, model_ptr shadow) {
      for (const auto& scorer : self->state.scorers)
        self->send(scorer, shadow_model_atom::value, shadow);
    },
  };
}

} // namespace

serving_model_actor spawn_serving_model(caf::actor_system& sys, model_ptr initial,
                                        std::vector<scorer_actor> scorers) {
  return sys.spawn(serving_model, std::move(initial), std::move(scorers));
}

} // namespace vigil::actors
