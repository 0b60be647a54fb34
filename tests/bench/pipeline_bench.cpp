// End-to-end benchmark against a real Kafka broker and Redis (started by
// tests/harness): not a test, it asserts nothing about time.
//   throughput: N records pre-loaded, node started, time until N predictions
//               are delivered (median of runs)
//   latency:    records produced at a fixed rate while the node runs;
//               latency = prediction record timestamp (set when the sink
//               publishes it) - input record timestamp (set when produced),
//               p50/p99 over all records. The reader's own lag is excluded.

#include "actors/node/vigil_node.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/kafka_harness.h"
#include "support/test_registry.h"

#include <librdkafka/rdkafkacpp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <unistd.h>

using namespace vigil;

namespace {

std::vector<std::pair<std::string, std::string>> records(const std::string& prefix, int n) {
  pipeline::simulator_options o;
  o.seed = 77;
  o.expected_count = 1'000'000;
  pipeline::transaction_simulator sim{o};
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < n; ++i) {
    auto tx = sim.next().tx;
    tx.transaction_id = prefix + tx.transaction_id;
    out.emplace_back(tx.user_id, pipeline::to_json(tx).dump());
  }
  return out;
}

std::unique_ptr<actors::vigil_node> start_node(const std::string& topic) {
  config::runtime_config c;
  c.brokers = testing::services().kafka;
  c.redis = testing::services().redis;
  c.input_topic = topic;
  c.consumer_group = topic;
  c.registry_dir = testing::trained_registry().string();
  c.http_port = 0;
  c.labels_path = (testing::scratch_dir("bench") / "labels.jsonl").string();
  auto node = std::make_unique<actors::vigil_node>(c, "");
  node->start();
  return node;
}

// Counts predictions with `prefix`; records latency samples (ms) when asked.
std::size_t drain_predictions(const std::string& prefix, std::size_t want, std::vector<double>* latency_ms,
                              std::chrono::seconds timeout) {
  std::size_t seen = 0, scanned = 0;
  testing::consume_until(
    testing::services().kafka, "fraud_predictions",
    [&](const std::vector<testing::kafka_record>& all) {
      for (; scanned < all.size(); ++scanned) {
        if (all[scanned].key.rfind(prefix, 0) != 0)
          continue;
        ++seen;
        if (latency_ms)
          latency_ms->push_back(static_cast<double>(
            all[scanned].timestamp_ms -
            nlohmann::json::parse(all[scanned].value)["source_time_ms"].get<std::int64_t>()));
      }
      return seen >= want;
    },
    timeout);
  return seen;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 200'000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  double rate = argc > 3 ? std::atof(argv[3]) : 5'000;
  const auto& svc = testing::services();
  std::printf("broker %s, redis %s, %d records, %d runs\n", svc.kafka.c_str(), svc.redis.c_str(), n, runs);
  std::vector<double> throughputs;
  for (int run = 0; run < runs; ++run) {
    auto topic = "bench-tp-" + std::to_string(::getpid()) + "-" + std::to_string(run);
    testing::create_topic(svc.kafka, topic, 4);
    testing::produce(svc.kafka, topic, records(topic + "/", n));
    auto start = std::chrono::steady_clock::now();
    auto node = start_node(topic);
    auto seen = drain_predictions(topic + "/", n, nullptr, std::chrono::seconds(600));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    node->stop();
    throughputs.push_back(seen / seconds);
    std::printf("run %d: %zu predictions in %.2f s = %.0f tx/s\n", run + 1, seen, seconds, seen / seconds);
  }
  std::sort(throughputs.begin(), throughputs.end());
  std::printf("sustained throughput (median of %d): %.0f tx/s\n", runs, throughputs[throughputs.size() / 2]);

  auto topic = "bench-lat-" + std::to_string(::getpid());
  testing::create_topic(svc.kafka, topic, 4);
  auto node = start_node(topic);
  // Warm-up: the first batches wait for the producer's idempotence id and
  // the group join; measure the steady state after them.
  testing::produce(svc.kafka, topic, records(topic + "/warmup/", 2'000));
  drain_predictions(topic + "/warmup/", 2'000, nullptr, std::chrono::seconds(120));
  int paced = static_cast<int>(rate * 10);
  auto load = records(topic + "/", paced);
  std::thread producer([&] {
    auto t0 = std::chrono::steady_clock::now();
    const std::size_t chunk = 50;
    for (std::size_t i = 0; i < load.size(); i += chunk) {
      std::vector<std::pair<std::string, std::string>> part(
        load.begin() + static_cast<std::ptrdiff_t>(i),
        load.begin() + static_cast<std::ptrdiff_t>(std::min(load.size(), i + chunk)));
      testing::produce(svc.kafka, topic, part);
      std::this_thread::sleep_until(t0 + std::chrono::duration<double>((i + chunk) / rate));
    }
  });
  std::vector<double> latency;
  drain_predictions(topic + "/", load.size(), &latency, std::chrono::seconds(300));
  producer.join();
  node->stop();
  std::printf("latency at %.0f tx/s (produced -> prediction published), %zu samples: p50 %.1f ms, p99 %.1f ms\n",
              rate, latency.size(), percentile(latency, 0.5), percentile(latency, 0.99));
  return 0;
}
