// Benchmark: what rules beside the model cost the scorer (usage:
// vigil_rules_bench [transactions [runs]]). Trains the bootstrap model (as
// `vigil run` does on first start) into a scratch registry, replays
// simulated transactions for their feature vectors, then scores them in
// stream-sized batches with score_batch alone and with a set of 20 typical
// rules (deny lists of 1,000 ids, velocity and amount limits, country and
// category blocks, score adjustments), alternating, and prints the medians,
// the ratio, and the rules' own cost per transaction (TreeSHAP reasons off
// in both, so that flagging by a rule is not counted as its cost). Asserts
// nothing about time.

#include "models/serving/batch_scoring.h"
#include "models/training/model_publication.h"
#include "pipeline/features/labelled_replay.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unordered_map>
#include <unistd.h>
#include <vector>

using namespace vigil;

namespace {

std::vector<rules::rule_definition> typical_rules() {
  std::string users = "[", merchants = "[";
  for (int i = 0; i < 1000; ++i) {
    users += (i ? ", 'user-" : "'user-") + std::to_string(i * 7919 % 100'000) + "'";
    merchants += (i ? ", 'merchant-" : "'merchant-") + std::to_string(i * 104'729 % 10'000) + "'";
  }
  users += "]";
  merchants += "]";
  return {
    {"deny-users", "tx.user_id in " + users, "decline", 0, "user on the deny list"},
    {"deny-merchants", "tx.merchant_id in " + merchants, "review", 0, "merchant on the watch list"},
    {"velocity-10m", "user_count_10m >= 8", "review", 0, "many purchases in 10 minutes"},
    {"velocity-1h", "user_count_1h >= 20", "decline", 0, "card testing pace"},
    {"small-burst", "user_small_count_1h >= 5 and tx.amount < 5", "review", 0, "small-amount probing"},
    {"amount-cap", "tx.amount > 10000", "review", 0, "above the single-purchase limit"},
    {"amount-spike", "amount_zscore_30d > 6 and user_count_30d >= 10", "adjust", 0.2, "far above usual"},
    {"new-everything", "is_new_merchant == 1 and is_new_country == 1 and is_new_device == 1", "adjust", 0.15, ""},
    {"geo-speed", "geo_speed_kmh > 900", "review", 0, "impossible travel"},
    {"blocked-countries", "tx.country in ['KP', 'IR', 'SY', 'CU']", "decline", 0, "sanctioned country"},
    {"risky-countries", "tx.country in ['NG', 'RU', 'BR', 'ID', 'PH', 'VN']", "adjust", 0.05, ""},
    {"night-online", "is_night == 1 and tx.channel == 'online' and tx.amount > 500", "adjust", 0.05, ""},
    {"gift-cards", "tx.merchant_category in ['gift_cards', 'crypto', 'money_transfer']", "review", 0, ""},
    {"merchant-fraud", "merchant_fraud_rate_7d > 0.2 and merchant_labelled_7d >= 20", "review", 0, ""},
    {"merchant-burst", "merchant_burst_ratio > 10", "adjust", 0.1, ""},
    {"user-frauds", "user_frauds_30d >= 1", "review", 0, "confirmed fraud on this user"},
    {"trusted-small", "user_count_30d > 50 and tx.amount < 20 and not missing(user_mean_30d)", "adjust", -0.1, ""},
    {"low-score-big", "score < 0.05 and tx.amount > 5000", "review", 0, ""},
    {"atm-abroad", "tx.channel == 'atm' and country_share < 0.05", "review", 0, ""},
    {"distance", "distance_from_last_km > 3000 and seconds_since_last < 3600", "review", 0, ""},
  };
}

} // namespace

int main(int argc, char** argv) {
  const std::int64_t transactions = argc > 1 ? std::atoll(argv[1]) : 100'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  constexpr std::size_t batch_size = 256;

  auto dir = std::filesystem::temp_directory_path() / ("vigil-rules-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  models::model_registry registry{dir};
  int version = models::ensure_production_model(registry, 40'000, {});
  auto model = models::load_scoring_model(registry, version);

  pipeline::simulator_options so;
  so.seed = 7;
  so.expected_count = transactions;
  pipeline::transaction_simulator sim{so};
  std::vector<pipeline::labelled_transaction> stream;
  for (std::int64_t i = 0; i < transactions; ++i)
    stream.push_back(sim.next());
  std::unordered_map<std::string, pipeline::transaction> by_id;
  for (const auto& t : stream)
    by_id[t.tx.transaction_id] = t.tx;
  pipeline::feature_store store;
  auto table = pipeline::replay_for_training(std::move(stream), store);
  std::vector<pipeline::work_batch> batches;
  for (std::size_t i = 0; i < table.rows(); ++i) {
    if (i % batch_size == 0)
      batches.emplace_back();
    pipeline::work_item w;
    w.sequence = i;
    w.tx = by_id.at(table.transaction_ids[i]);
    std::copy(table.row(i), table.row(i) + pipeline::feature_count, w.features.begin());
    batches.back().push_back(std::move(w));
  }
  const models::decision_thresholds thresholds{model->threshold, std::max(model->threshold, 0.9)};
  auto compile_start = std::chrono::steady_clock::now();
  auto rules = rules::rule_set::compile(typical_rules());
  double compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - compile_start).count();

  std::size_t hits = 0;
  auto rate = [&](const rules::rule_set* with) {
    auto start = std::chrono::steady_clock::now();
    std::size_t scored = 0;
    hits = 0;
    for (const auto& b : batches) {
      // No TreeSHAP reasons in either run: review hits flag records, and
      // explaining them would be counted as the rules' cost.
      auto decisions = models::score_batch(b, *model, thresholds, false, {}, false, with);
      scored += decisions.size();
      for (const auto& d : decisions)
        hits += d.rule_hits.size();
    }
    return scored / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  rate(&rules);  // warm-up
  std::vector<double> off, on;
  for (int r = 0; r < runs; ++r) {
    off.push_back(rate(nullptr));
    on.push_back(rate(&rules));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double base = median(off), with = median(on);
  std::printf("scorer throughput, %zu records in batches of %zu, %d alternating runs (median), %zu rules "
              "(compiled in %.2f ms), %zu hits per run:\n",
              table.rows(), batch_size, runs, rules.size(), compile_ms, hits);
  std::printf("  model alone:      %10.0f records/s\n", base);
  std::printf("  model and rules:  %10.0f records/s  (%.1f%% of the model alone; the rules cost %.2f us a "
              "transaction)\n",
              with, 100.0 * with / base, (1e6 / with - 1e6 / base));
  std::filesystem::remove_all(dir);
  return 0;
}
