// Pipeline wiring with test doubles at the edges: a slow sink and a model
// swap under load.

#include "actors/pipeline/pipeline_topology.h"
#include "pipeline/connectors/simulator_source.h"
#include "actors/pipeline/vigil_atoms.h"
#include "config/runtime_config.h"
#include "models/serving/scoring_model.h"
#include "pipeline/metrics/metrics_registry.h"
#include "support/recording_publisher.h"
#include "support/test_registry.h"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <thread>

using namespace vigil;
using namespace vigil::actors;
using namespace vigil::connectors;

namespace {

using testing::recording_publisher;

struct pipeline_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<recording_publisher> publisher;
  pipeline_handles handles;
  std::shared_ptr<const models::scoring_model> model;
  std::shared_ptr<config::runtime_config> config = std::make_shared<config::runtime_config>();

  pipeline_fixture(std::chrono::milliseconds sink_delay, std::int64_t count) {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    models::model_registry registry{testing::trained_registry()};
    model = models::load_scoring_model(registry, registry.production()->version);
    publisher = std::make_shared<recording_publisher>(sink_delay);
    config->batch_size = 32;
    config->max_in_flight_batches = 4;
    config->pause_input_after_ms = 20;  // the slow sink's stalls are longer
    pipeline::simulator_options so;
    so.seed = 8;
    so.expected_count = count;
    pipeline_parts parts{std::make_shared<simulator_source>(so, 0, count), publisher, nullptr,
                         model, config, {}, nullptr};
    handles = start_pipeline(*sys, parts);
  }
  ~pipeline_fixture() {
    stop_pipeline(handles);
    handles = {};  // detached actors end only when no handle is left
    sys.reset();
  }
  bool wait_drained(std::chrono::seconds timeout) {
    caf::scoped_actor self{*sys};
    bool ok = false;
    self->request(handles.source, timeout, drained_atom::value)
      .receive([&](bool) { ok = true; }, [&](caf::error&) {});
    return ok;
  }
};

} // namespace

TEST_CASE("a slow sink pauses the source and nothing queues beyond the credit", "[integration][pipeline]") {
  auto& paused_ms = pipeline::metrics().get_counter("vigil_source_paused_milliseconds_total", "");
  auto& in_flight = pipeline::metrics().get_gauge("vigil_in_flight_batches", "");
  auto paused_before = paused_ms.value();
  in_flight.set(0);  // process-wide gauge: forget earlier pipelines of this process
  // 25 ms per part and two parts per batch: credit runs out for longer than
  // the 20 ms the fixture lets the source ride out before pausing.
  pipeline_fixture f{std::chrono::milliseconds(25), 1'500};
  double max_in_flight = 0;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      max_in_flight = std::max(max_in_flight, in_flight.value());
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  bool drained = f.wait_drained(std::chrono::seconds(120));
  done = true;
  sampler.join();
  REQUIRE(drained);
  CHECK(f.publisher->seen().size() == 1'500);
  CHECK(max_in_flight <= f.config->max_in_flight_batches);
  CHECK(max_in_flight >= 1);
  CHECK(paused_ms.value() > paused_before);  // the input was paused, then caught up
}

TEST_CASE("a model swap under load loses and doubles no decision", "[integration][pipeline]") {
  pipeline_fixture f{std::chrono::milliseconds(1), 4'000};
  while (f.publisher->seen().size() < 1'000)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto next = std::make_shared<models::scoring_model>(*f.model);
  next->version = f.model->version + 100;
  {
    // Through the owner of the served model, which also answers what it serves.
    caf::scoped_actor self{*f.sys};
    std::int32_t served = 0;
    self->request(f.handles.model_owner, std::chrono::seconds(10), model_atom::value, model_ptr{next})
      .receive([&](std::int32_t v) { served = v; }, [](caf::error&) { FAIL("no swap"); });
    CHECK(served == next->version);
    model_ptr now;
    self->request(f.handles.model_owner, std::chrono::seconds(10), caf::get_atom::value)
      .receive([&](model_ptr m) { now = m; }, [](caf::error&) { FAIL("no answer"); });
    CHECK(now == next);
    CHECK(pipeline::metrics().get_gauge("vigil_model_version", "").value() == next->version);
  }
  auto& m = pipeline::metrics();
  bool drained = f.wait_drained(std::chrono::seconds(120));
  INFO("records in " << m.get_counter("vigil_records_in_total", "").value() << ", in flight "
       << m.get_gauge("vigil_in_flight_batches", "").value() << ", paused "
       << m.get_gauge("vigil_source_paused", "").value() << ", polls "
       << m.get_counter("vigil_source_polls_total", "").value() << ", published "
       << f.publisher->seen().size());
  REQUIRE(drained);
  auto seen = f.publisher->seen();
  std::set<std::string> ids;
  std::map<int, int> by_version;
  for (const auto& [id, version] : seen) {
    ids.insert(id);
    ++by_version[version];
  }
  CHECK(seen.size() == 4'000);
  CHECK(ids.size() == 4'000);
  CHECK(by_version[f.model->version] >= 1'000);
  CHECK(by_version[next->version] > 0);
  CHECK(by_version.size() == 2);
}
