// End-to-end benchmark against a real Kafka broker and Redis (started by
// tests/harness): not a test, it asserts nothing about time.
//   throughput: N records pre-loaded, node started, predictions per second
//               between 30% and 95% of N delivered (median of runs; the
//               time from the node's start to all N too); beside each run, the same
//               topic through a passthrough (consume, produce Vigil's own
//               decision records of that run in their place; Vigil's
//               consumer and producer settings; no features, no model):
//               what this broker carries on this machine, the baseline
//   latency:    records produced at a fixed rate while the node runs;
//               latency = prediction record timestamp (set when the sink
//               publishes it) - input record timestamp (set when produced),
//               p50/p99 over all records. The reader's own lag is excluded.

#include "actors/node/vigil_node.h"
#include "pipeline/connectors/kafka_config.h"
#include "pipeline/connectors/redis_connection.h"
#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/kafka_harness.h"
#include "support/test_registry.h"

#include <librdkafka/rdkafkacpp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

using namespace vigil;

namespace {

// Records `skip` to `skip + n` of one simulated stream (seed 77).
std::vector<std::pair<std::string, std::string>> records(const std::string& prefix, int n, int skip = 0) {
  pipeline::simulator_options o;
  o.seed = 77;
  o.expected_count = 1'000'000;
  pipeline::transaction_simulator sim{o};
  for (int i = 0; i < skip; ++i)
    sim.next();
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
  if (const char* ms = std::getenv("VIGIL_BENCH_SNAPSHOT_INTERVAL_MS"))
    c.snapshot_interval_ms = std::atoi(ms);
  if (const char* port = std::getenv("VIGIL_BENCH_CLUSTER_PORT"))  // -1: outside any cluster
    c.cluster_port = std::atoi(port);
  if (const char* readback = std::getenv("VIGIL_BENCH_READBACK_DECISIONS"))
    c.readback_decisions = std::atoi(readback);
  auto node = std::make_unique<actors::vigil_node>(c, "");
  node->start();
  return node;
}

// Counts predictions with `prefix`; records latency samples (ms) when asked.
struct latency_sample {
  std::int64_t produced_ms = 0;
  double latency_ms = 0;  ///< produced -> prediction published
  double inside_ms = 0;   ///< of that, read by the source -> scored (the record's latency_us)
  bool flagged = false;   ///< review or decline (these also get TreeSHAP reasons)
};

std::size_t drain_predictions(const std::string& prefix, std::size_t want,
                              std::vector<latency_sample>* latency, std::chrono::seconds timeout,
                              const std::map<std::int32_t, std::int64_t>& start_at = {},
                              std::vector<std::string>* values = nullptr,
                              const std::string& topic = "fraud_predictions", double* sustained = nullptr,
                              std::size_t values_stride = 1) {
  std::size_t seen = 0, scanned = 0;
  // Decisions seen per 500 ms, printed for throughput runs: a stall shows
  // as a gap, a slow pace as low counts throughout.
  std::vector<std::size_t> per_half_second;
  const auto first_call = std::chrono::steady_clock::now();
  // Records per second between 30% and 95% of `want` seen: start-up and
  // the last stragglers outside.
  const auto low = want * 30 / 100, high = want * 95 / 100;
  std::chrono::steady_clock::time_point at_low{}, at_high{};
  testing::consume_until(
    testing::services().kafka, topic,
    [&](const std::vector<testing::kafka_record>& all) {
      for (; scanned < all.size(); ++scanned) {
        if (all[scanned].key.rfind(prefix, 0) != 0)
          continue;
        ++seen;
        if (sustained) {
          auto step = static_cast<std::size_t>((std::chrono::steady_clock::now() - first_call) /
                                               std::chrono::milliseconds(500));
          if (step >= per_half_second.size())
            per_half_second.resize(step + 1);
          ++per_half_second[step];
        }
        if (seen == low)
          at_low = std::chrono::steady_clock::now();
        if (seen == high)
          at_high = std::chrono::steady_clock::now();
        // Every values_stride-th decision: enough for the passthrough's
        // sizes and compressibility, without copying every decision on the
        // cores the node shares while it is measured (the passthrough's
        // own reader copies none).
        if (values && seen % values_stride == 0)
          values->push_back(all[scanned].value);
        if (latency) {
          auto prediction = nlohmann::json::parse(all[scanned].value);
          auto produced = prediction["source_time_ms"].get<std::int64_t>();
          latency->push_back({produced, static_cast<double>(all[scanned].timestamp_ms - produced),
                              prediction["latency_us"].get<double>() / 1000, prediction["decision"] != "approve"});
        }
      }
      return seen >= want;
    },
    timeout, start_at);
  if (sustained && high > low && at_high > at_low)
    *sustained = static_cast<double>(high - low) / std::chrono::duration<double>(at_high - at_low).count();
  if (sustained) {
    std::printf("%s: decisions per 500 ms from the reader's start:", topic.c_str());
    for (auto n : per_half_second)
      std::printf(" %zu", n);
    std::printf("\n");
  }
  return seen;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

// Redis runs one command at a time: a long one holds every other client,
// the merchant host's appends among them. Slow-log threshold 5 ms for the
// load; prints what exceeded it (command, first key, ms), longest first.
void reset_redis_slowlog() {
  auto c = connectors::redis_connect(testing::services().redis);
  connectors::redis_command(c.get(), {"CONFIG", "SET", "slowlog-log-slower-than", "5000"});
  connectors::redis_command(c.get(), {"CONFIG", "SET", "slowlog-max-len", "1024"});
  connectors::redis_command(c.get(), {"SLOWLOG", "RESET"});
}

void print_redis_slowlog(const char* label) {
  auto c = connectors::redis_connect(testing::services().redis);
  auto r = connectors::redis_command(c.get(), {"SLOWLOG", "GET", "1024"});
  std::vector<std::pair<double, std::string>> slow;  // (ms, command)
  for (std::size_t i = 0; i < r->elements; ++i) {
    const auto* entry = r->element[i];
    if (entry->elements < 4)
      continue;
    const auto* args = entry->element[3];
    auto arg = [&](std::size_t k) {
      return k < args->elements ? std::string(args->element[k]->str, args->element[k]->len) : std::string();
    };
    // A script is named by its first key (after the script and key count).
    auto name = arg(0);
    std::string what = name + " " + arg(name.rfind("EVAL", 0) == 0 ? 3 : 1);
    slow.emplace_back(static_cast<double>(entry->element[2]->integer) / 1000, what);
  }
  std::sort(slow.begin(), slow.end(), std::greater<>());
  double total = 0;
  for (const auto& [ms, what] : slow)
    total += ms;
  std::printf("%s: Redis commands over 5 ms: %zu, %.0f ms in all; longest:", label, slow.size(), total);
  for (std::size_t i = 0; i < slow.size() && i < 6; ++i)
    std::printf(" %.0f ms (%s);", slow[i].first, slow[i].second.c_str());
  std::printf("\n");
}

// One latency round: a fresh node and topic, a warm-up, then 20 s of load
// at `rate`; prints the figures under `label`.
void measure_latency(int round, const char* label, double rate) {
  const auto& svc = testing::services();
  auto latency_topic = "bench-lat-" + std::to_string(::getpid()) + "-" + std::to_string(round);
  auto& topic = latency_topic;
  testing::create_topic(svc.kafka, topic, 4);
  auto node = start_node(topic);
  // Warm-up: the first batches wait for the producer's idempotence id and
  // the group join; measure the steady state after them.
  auto warmup_from = testing::end_offsets(svc.kafka, "fraud_predictions");
  constexpr int warmup_records = 2'000;
  testing::produce(svc.kafka, topic, records(topic + "/warmup/", warmup_records));
  drain_predictions(topic + "/warmup/", warmup_records, nullptr, std::chrono::seconds(120), warmup_from);
  // 20 s at the target rate; the first 10 s are a warm-up (consumer and
  // producer connections, group join) and are reported separately.
  int paced = static_cast<int>(rate * 20);
  // A prefix of its own: the warm-up records ("/warmup/") must not be
  // counted as load (they include the node's start-up).
  // The load continues the warm-up's stream. (Replaying it instead sent the
  // same users' same transactions again: about half of those scored as
  // fraud, each with TreeSHAP reasons, which was the start-up tail seen
  // inside Vigil in earlier versions of this bench.)
  auto load = records(topic + "/load/", paced, warmup_records);
  auto load_from = testing::end_offsets(svc.kafka, "fraud_predictions");
  reset_redis_slowlog();
  std::thread producer([&] {
    // One long-lived producer, paced in 10 ms ticks (like a batching
    // client); the record timestamp is taken when it is handed over.
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    conf->set("bootstrap.servers", svc.kafka, err);
    conf->set("linger.ms", "5", err);
    std::unique_ptr<RdKafka::Producer> p{RdKafka::Producer::create(conf.get(), err)};
    // Connect before the clock starts: a cold producer would hold the first
    // records while it fetches metadata, which is not Vigil's latency.
    RdKafka::Metadata* metadata = nullptr;
    p->metadata(false, nullptr, &metadata, 10'000);
    delete metadata;
    auto t0 = std::chrono::steady_clock::now();
    const std::size_t per_tick = std::max<std::size_t>(1, static_cast<std::size_t>(rate / 100));
    for (std::size_t i = 0; i < load.size(); ++i) {
      if (i % per_tick == 0)
        std::this_thread::sleep_until(t0 + std::chrono::duration<double>(i / rate));
      auto& [key, value] = load[i];
      while (p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                        value.data(), value.size(), key.data(), key.size(), 0,
                        nullptr) == RdKafka::ERR__QUEUE_FULL)
        p->poll(1);
      p->poll(0);
    }
    p->flush(30'000);
  });
  std::vector<latency_sample> samples;
  drain_predictions(topic + "/load/", load.size(), &samples, std::chrono::seconds(300), load_from);
  producer.join();
  print_redis_slowlog(label);
  node->stop();
  std::sort(samples.begin(), samples.end(),
            [](const auto& a, const auto& b) { return a.produced_ms < b.produced_ms; });
  std::vector<double> latency;
  for (const auto& sample : samples)
    latency.push_back(sample.latency_ms);
  // Where a start-up tail would sit, per 250 ms of produce time over the
  // first 3 s: the worst latency in all and inside Vigil (a tail that is not
  // inside was spent before the source read the record: in the broker or
  // the consumer's fetch), and the share of flagged records.
  if (!samples.empty()) {
    std::vector<double> worst(12), worst_inside(12), flagged(12), count(12);
    for (const auto& sample : samples) {
      auto step = static_cast<std::size_t>((sample.produced_ms - samples.front().produced_ms) / 250);
      if (step >= worst.size())
        continue;
      worst[step] = std::max(worst[step], sample.latency_ms);
      worst_inside[step] = std::max(worst_inside[step], sample.inside_ms);
      flagged[step] += sample.flagged ? 1 : 0;
      count[step] += 1;
    }
    for (std::size_t step = 0; step < flagged.size(); ++step)
      flagged[step] = count[step] > 0 ? 100 * flagged[step] / count[step] : 0;
    for (auto [what, values] : {std::pair{"worst produced -> published, ms", &worst},
                                std::pair{"worst read -> scored, ms", &worst_inside},
                                std::pair{"flagged, %", &flagged}}) {
      std::printf("%s: %s, by produce time (first 3 s, 250 ms steps):", label, what);
      for (double v : *values)
        std::printf(" %.0f", v);
      std::printf("\n");
    }
  }
  // Per second of produce time over the whole load: p99 produced ->
  // published and the worst read -> scored, which shows the stalls (a
  // checkpoint every snapshot_interval_ms) that a steady-state p99 folds in.
  if (!samples.empty()) {
    std::vector<std::vector<double>> by_second;
    std::vector<double> worst_inside;
    for (const auto& sample : samples) {
      auto second = static_cast<std::size_t>((sample.produced_ms - samples.front().produced_ms) / 1000);
      if (second >= by_second.size()) {
        by_second.resize(second + 1);
        worst_inside.resize(second + 1);
      }
      by_second[second].push_back(sample.latency_ms);
      worst_inside[second] = std::max(worst_inside[second], sample.inside_ms);
    }
    std::printf("%s: per second of load, p99 produced -> published / worst read -> scored, ms:", label);
    for (std::size_t second = 0; second < by_second.size(); ++second)
      std::printf(" %.0f/%.0f", percentile(by_second[second], 0.99), worst_inside[second]);
    std::printf("\n");
  }
  std::vector<double> warmup(latency.begin(), latency.begin() + static_cast<std::ptrdiff_t>(latency.size() / 2));
  std::vector<double> steady(latency.begin() + static_cast<std::ptrdiff_t>(latency.size() / 2), latency.end());
  std::printf("%s: latency at %.0f tx/s (produced -> prediction published), steady state (last 10 s, %zu samples): "
              "p50 %.1f ms, p99 %.1f ms; first 10 s after start: p50 %.1f ms, p99 %.1f ms\n",
              label, rate, steady.size(), percentile(steady, 0.5), percentile(steady, 0.99),
              percentile(warmup, 0.5), percentile(warmup, 0.99));
}

// User + system CPU of this process (the node runs inside it) so far.
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// User + system CPU of another process so far (/proc/PID/stat), 0 when it
// cannot be read.
double cpu_seconds_of(int pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto after_name = stat.rfind(')');  // the name may hold spaces
  if (after_name == std::string::npos)
    return 0;
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14)
      utime = std::stod(field);
    if (i == 15)
      stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The CPU the machine's parts have used so far: this process (the node or
// the passthrough, and the bench's reader), the broker, Redis. Seconds.
struct machine_cpu {
  double process = 0, broker = 0, redis = 0;
  static machine_cpu now() {
    const auto& svc = testing::services();
    return {process_cpu_seconds(), cpu_seconds_of(svc.kafka_pid), cpu_seconds_of(svc.redis_pid)};
  }
  machine_cpu operator-(const machine_cpu& o) const {
    return {process - o.process, broker - o.broker, redis - o.redis};
  }
  /// Microseconds per record of n.
  machine_cpu per_record(int n) const { return {process * 1e6 / n, broker * 1e6 / n, redis * 1e6 / n}; }
  double total() const { return process + broker + redis; }
};

struct passthrough_result {
  double records_per_second = 0;
  machine_cpu cpu_per_record;  ///< microseconds
};

// The passthrough baseline: reads `topic` (a group of its own, from the
// start) with Vigil's consumer settings and produces, per record, one of
// `outputs` (Vigil's decisions of the same topic: the same sizes, the same
// compressibility) under a key as long as Vigil's, with Vigil's producer
// settings, to a topic of its own; timed like Vigil, by a reader, between
// 30% and 95% of the records seen: records per second, and the CPU it cost
// the machine per record.
passthrough_result passthrough(const std::string& topic, int n, const std::vector<std::string>& outputs) {
  const auto& svc = testing::services();
  const auto cpu_before = machine_cpu::now();
  auto out_topic = topic + "-passthrough";
  testing::create_topic(svc.kafka, out_topic, 4);  // new: read from its start
  std::thread pass([&] {
    auto settings = connectors::stream_fetch_settings();  // Vigil's own
    settings.insert({{"bootstrap.servers", svc.kafka},
                     {"group.id", topic + "-passthrough"},
                     {"partition.assignment.strategy", "cooperative-sticky"},
                     {"enable.auto.commit", "false"},
                     {"auto.offset.reset", "earliest"}});
    auto conf = connectors::make_kafka_conf(settings);
    std::string err;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer{RdKafka::KafkaConsumer::create(conf.get(), err)};
    consumer->subscribe({topic});
    auto producer = connectors::make_producer(svc.kafka, nullptr, {});
    int done = 0;
    while (done < n) {
      std::unique_ptr<RdKafka::Message> msg{consumer->consume(5)};
      if (msg->err() != RdKafka::ERR_NO_ERROR)
        continue;
      // Vigil keys by transaction id; the input key (the user) prefixed by
      // the topic is as long and lets the reader tell this run's records.
      const auto key = topic + "/" + (msg->key() ? *msg->key() : std::string());
      const auto& value = outputs[static_cast<std::size_t>(done) % outputs.size()];
      while (producer->produce(out_topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                               nullptr) == RdKafka::ERR__QUEUE_FULL)
        producer->poll(1);
      producer->poll(0);
      ++done;
    }
    producer->flush(60'000);
    consumer->close();
  });
  double sustained = 0;
  drain_predictions(topic + "/", static_cast<std::size_t>(n), nullptr, std::chrono::seconds(600), {}, nullptr,
                    out_topic, &sustained);
  pass.join();
  return {sustained, (machine_cpu::now() - cpu_before).per_record(n)};
}

// What made a run wait, from the node's own counters (the node runs in this
// process): time its source spent paused for lack of credit, merchant
// requests retried (refused, mostly while the shards are claimed at start,
// or unanswered), checkpoints saved.
struct wait_counters {
  double paused_ms = 0, merchant_retries = 0, checkpoints = 0;
  static wait_counters now() {
    const auto& m = pipeline::metrics();
    return {m.value_of("vigil_source_paused_milliseconds_total"), m.value_of("vigil_merchant_request_retries_total"),
            m.value_of("vigil_checkpoints_total")};
  }
  wait_counters operator-(const wait_counters& o) const {
    return {paused_ms - o.paused_ms, merchant_retries - o.merchant_retries, checkpoints - o.checkpoints};
  }
};

// What the machine's cores allow: the CPU a run cost the whole machine per
// record (this process, the broker, Redis), beside the passthrough's, and
// the CPU per transaction Vigil could spend at 70% of the passthrough's
// rate if every core were busy with nothing else.
void print_cpu_budget(int run, const machine_cpu& vigil, const passthrough_result& baseline) {
  const auto cores = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
  const auto& p = baseline.cpu_per_record;
  std::printf("run %d machine CPU per record, us: Vigil %.1f (this process %.1f, broker %.1f, Redis %.1f); "
              "passthrough %.1f (this process %.1f, broker %.1f); %0.f cores at 70%% of the passthrough's rate "
              "(%.0f records/s) allow %.1f us per record, all parts included\n",
              run, vigil.total(), vigil.process, vigil.broker, vigil.redis, p.total(), p.process, p.broker, cores,
              0.7 * baseline.records_per_second, cores * 1e6 / (0.7 * baseline.records_per_second));
}

// Decisions kept from a run for the passthrough to produce: about 20,000.
std::size_t decision_sample_stride(int n) { return std::max<std::size_t>(1, static_cast<std::size_t>(n) / 20'000); }

// One untimed round of both sides on a topic of its own. The broker is
// started by this bench, and its JVM compiles its hot paths in the first
// minute of load (the compiler threads took 13% of the machine's samples
// during a first run, `perf record -a`): without this the first run
// measured Vigil on a cold broker and its passthrough on a warmer one.
void warm_broker(int n) {
  const auto& svc = testing::services();
  auto topic = "bench-warm-" + std::to_string(::getpid());
  testing::create_topic(svc.kafka, topic, 4);
  testing::produce(svc.kafka, topic, records(topic + "/", n));
  auto from = testing::end_offsets(svc.kafka, "fraud_predictions");
  auto node = start_node(topic);
  std::vector<std::string> decisions;
  double ignored = 0;
  drain_predictions(topic + "/", static_cast<std::size_t>(n), nullptr, std::chrono::seconds(600), from, &decisions,
                    "fraud_predictions", &ignored, decision_sample_stride(n));
  node->stop();
  passthrough(topic, n, decisions);
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 200'000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  double rate = argc > 3 ? std::atof(argv[3]) : 5'000;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines as they happen, beside the node's log
  const auto& svc = testing::services();
  std::printf("broker %s, redis %s, %d records, %d runs\n", svc.kafka.c_str(), svc.redis.c_str(), n, runs);
  // Readers start at the end of the shared predictions topic, so they do
  // not scan earlier runs on the cores they share with the node. Latency
  // twice:
  // the broker was just started, and its JVM compiles its hot paths during
  // the first round's load; the second round meets a warm broker, as a
  // production node would.
  if (rate > 0) {  // 0: throughput only
    measure_latency(1, "round 1 (broker just started)", rate);
    measure_latency(2, "round 2 (broker warm)", rate);
  }
  if (rate <= 0 && runs > 0) {  // the latency rounds warm the broker otherwise
    std::printf("warming the broker: one untimed run of both sides...\n");
    std::fflush(stdout);
    warm_broker(std::min(n, 100'000));
  }
  std::vector<double> throughputs, baselines, ratios, cpu_per_record, machine_per_record, passthrough_per_record;
  // The decisions of the previous run feed a passthrough that goes first:
  // runs alternate which side meets the broker first, since its JVM still
  // compiles during the timed runs (10-20% of the machine in `perf`).
  std::vector<std::string> decisions;
  for (int run = 0; run < runs; ++run) {
    auto topic = "bench-tp-" + std::to_string(::getpid()) + "-" + std::to_string(run);
    testing::create_topic(svc.kafka, topic, 4);
    testing::produce(svc.kafka, topic, records(topic + "/", n));
    const bool passthrough_first = run % 2 == 1;
    passthrough_result baseline;
    if (passthrough_first)
      baseline = passthrough(topic, n, decisions);
    auto from = testing::end_offsets(svc.kafka, "fraud_predictions");
    auto start = std::chrono::steady_clock::now();
    const auto cpu_before = machine_cpu::now();
    const auto waits_before = wait_counters::now();
    auto node = start_node(topic);
    decisions.clear();
    // The source's side of the same run, every 250 ms: records it read, and
    // P while its input was paused for lack of credit. A gap here with
    // credit to spare is the input starving (the stalls of librdkafka's
    // fetch backoff showed so).
    std::atomic<bool> sampling{true};
    std::thread source_sampler([&] {
      const auto& m = pipeline::metrics();
      std::string series;
      double last_in = m.value_of("vigil_records_in_total");
      while (sampling) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        const double in = m.value_of("vigil_records_in_total");
        series += (m.value_of("vigil_source_paused") > 0 ? " P" : " ") + std::to_string(std::lround(in - last_in));
        last_in = in;
      }
      std::printf("run %d source: records read per 250 ms from the node's start (P: input paused):%s\n", run + 1,
                  series.c_str());
    });
    double sustained = 0;
    auto seen = drain_predictions(topic + "/", n, nullptr, std::chrono::seconds(600), from, &decisions,
                                  "fraud_predictions", &sustained, decision_sample_stride(n));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sampling = false;
    source_sampler.join();
    const auto cpu = (machine_cpu::now() - cpu_before).per_record(n);
    cpu_per_record.push_back(cpu.process);
    const auto waits = wait_counters::now() - waits_before;
    std::printf("run %d waits: source paused for credit %.0f ms of %.0f, merchant requests retried %.0f, "
                "checkpoints %.0f\n",
                run + 1, waits.paused_ms, seconds * 1000, waits.merchant_retries, waits.checkpoints);
    node->stop();
    throughputs.push_back(sustained);
    double mean_bytes = 0;
    for (const auto& d : decisions)
      mean_bytes += static_cast<double>(d.size()) / static_cast<double>(decisions.size());
    if (!passthrough_first)
      baseline = passthrough(topic, n, decisions);
    baselines.push_back(baseline.records_per_second);
    machine_per_record.push_back(cpu.total());
    passthrough_per_record.push_back(baseline.cpu_per_record.total());
    ratios.push_back(throughputs.back() / baselines.back());
    std::printf("run %d: %zu predictions in %.2f s from the node's start (%.0f tx/s), %.0f tx/s between 30%% and "
                "95%%; passthrough of the same topic (%s) with Vigil's decisions (%.0f bytes each): %.0f "
                "records/s; Vigil / passthrough %.2f; CPU of this process from the node's start to its last "
                "decision read (the node's start-up and the bench's reader included) %.1f us per transaction\n",
                run + 1, seen, seconds, seen / seconds, sustained, passthrough_first ? "first" : "after Vigil",
                mean_bytes, baselines.back(), ratios.back(), cpu_per_record.back());
    print_cpu_budget(run + 1, cpu, baseline);
  }
  if (runs == 0)
    return 0;  // latency only
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("sustained throughput (median of %d): %.0f tx/s; passthrough baseline %.0f records/s; median ratio "
              "(each run against its own baseline) %.2f\n",
              runs, median(throughputs), median(baselines), median(ratios));
  std::printf("CPU per transaction (median of %d, node and reader): %.1f us\n", runs, median(cpu_per_record));
  std::printf("machine CPU per record (median of %d; this process, broker and Redis): Vigil %.1f us, passthrough "
              "%.1f us\n",
              runs, median(machine_per_record), median(passthrough_per_record));

  return 0;
}
