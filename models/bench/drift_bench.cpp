// Benchmark: what drift tracking costs the scorer (usage: vigil_drift_bench
// [transactions [runs [sample_every]]]). Trains the bootstrap
// model (as `vigil run` does on first start) into a scratch registry,
// replays simulated transactions for their feature vectors, then scores
// them in stream-sized batches with score_batch alone and with score_batch
// plus drift_tracker::add, and with a cluster node's sharing tracker,
// alternating, and prints the medians and their ratios to the first. Asserts nothing about time.

#include "models/drift/live_drift.h"
#include "models/serving/batch_scoring.h"
#include "models/training/model_publication.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <vector>

using namespace vigil;

int main(int argc, char** argv) {
  const std::int64_t transactions = argc > 1 ? std::atoll(argv[1]) : 100'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  const unsigned sample_every = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 8;  // the node's
  constexpr std::size_t batch_size = 256;

  auto dir = std::filesystem::temp_directory_path() / ("vigil-drift-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  models::model_registry registry{dir};
  int version = models::ensure_production_model(registry, 40'000, {});
  auto model = models::load_scoring_model(registry, version);
  if (!model->reference) {
    std::fprintf(stderr, "the bootstrap model has no reference profile: %s\n", model->reference_problem.c_str());
    return 1;
  }

  pipeline::simulator_options so;
  so.seed = 7;
  so.expected_count = transactions;
  pipeline::transaction_simulator sim{so};
  std::vector<pipeline::labelled_transaction> stream;
  for (std::int64_t i = 0; i < transactions; ++i)
    stream.push_back(sim.next());
  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(stream), store);
  std::vector<pipeline::work_batch> batches;
  for (std::size_t i = 0; i < table.rows(); ++i) {
    if (i % batch_size == 0)
      batches.emplace_back();
    pipeline::work_item w;
    w.sequence = i;
    w.tx.transaction_id = table.transaction_ids[i];
    w.tx.event_time_ms = table.event_times_ms[i];
    std::copy(table.row(i), table.row(i) + pipeline::feature_count, w.features.begin());
    batches.back().push_back(std::move(w));
  }
  const models::decision_thresholds thresholds{model->threshold, std::max(model->threshold, 0.9)};
  const auto [first, last] = std::minmax_element(table.event_times_ms.begin(), table.event_times_ms.end());
  const std::int64_t simulated_span_ms = std::max<std::int64_t>(1, *last - *first);

  // A cluster node's tracker also keeps its counts aside for sharing, and
  // hands them over every few seconds (here: every 200 batches).
  auto rate = [&](bool track, bool shares = false) {
    models::drift_tracker tracker(sample_every, shares);
    auto start = std::chrono::steady_clock::now();
    std::size_t scored = 0, batch = 0;
    for (const auto& b : batches) {
      auto decisions = models::score_batch(b, *model, thresholds, false);
      if (track)
        tracker.add(decisions, *model);
      if (shares && ++batch % 200 == 0)
        tracker.take_unshared();
      scored += decisions.size();
    }
    return scored / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  // The tracker's work per decision, and per 10-minute bucket of event time
  // (a bucket's first use, and a sharing tracker's hand-over): measured
  // with the simulator's event times (30 days in the records: a bucket
  // every few dozen records) and with a live stream's (1,000 per second of
  // event time: a bucket every 600,000 records).
  std::printf("scorer throughput, %zu records in batches of %zu, %d alternating runs (median), 1 in %u counted:\n",
              table.rows(), batch_size, runs, sample_every);
  for (const bool live_spacing : {true, false}) {
    for (std::size_t i = 0, n = 0; i < batches.size(); ++i)
      for (auto& w : batches[i]) {
        w.tx.event_time_ms = live_spacing ? *first + static_cast<std::int64_t>(n) : table.event_times_ms[n];
        ++n;
      }
    const double span_ms = live_spacing ? static_cast<double>(table.rows()) : static_cast<double>(simulated_span_ms);
    rate(true);  // warm-up
    std::vector<double> off, on, shared;
    for (int r = 0; r < runs; ++r) {
      off.push_back(rate(false));
      on.push_back(rate(true));
      shared.push_back(rate(true, true));
    }
    std::printf(" event time %s (%.1f days, %.0f 10-minute buckets):\n",
                live_spacing ? "of a live stream, 1,000 records a second" : "as simulated", span_ms / 86'400'000.0,
                std::ceil(span_ms / 600'000.0));
    std::printf("  drift tracking off:    %10.0f records/s\n", median(off));
    std::printf("  drift tracking on:     %10.0f records/s  (%.1f%% of off)\n", median(on),
                100.0 * median(on) / median(off));
    std::printf("  on, shared (cluster):  %10.0f records/s  (%.1f%% of off)\n", median(shared),
                100.0 * median(shared) / median(off));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
