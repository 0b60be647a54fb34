// Soak: a `vigil run` node under steady load through the real broker for 30
// minutes (VIGIL_SOAK_MINUTES), at half of its sustained throughput
// (VIGIL_SOAK_RATE transactions a second, default 30,000), sampled every
// 10 s: its resident memory and the lag (produced, not yet published), each
// read every second and kept as the lowest and highest of the 10 s, open
// descriptors, checkpoint size in Redis and produced -> published latency
// percentiles. Writes soak/soak.csv and soak/soak.svg under the working
// directory (build/tests under ctest). Labelled `soak`: not in CI.
//
// Memory and lag swing with every checkpoint (a copy of every user's state
// is taken, written and freed; the stream waits while it is copied), so
// their trends are read from their floors: the lowest value of each minute.
// After the first 5 minutes (warm-up: state fills as users are first seen)
// the test fails when
//   - the resident memory floor grows by more than 4 MB a minute
//     (least-squares slope; a leak of two bytes per transaction at 30,000 a
//     second is 3.6 MB),
//   - open descriptors grow by more than 0.2 a minute,
//   - the lag floor grows by more than one second of load a minute,
//   - the median of the 10-s p99s in the last third is above 1.5 times the
//     middle third's plus 50 ms,
// or when a produced transaction is not published in the end.

#include "pipeline/connectors/redis_connection.h"
#include "pipeline/connectors/redis_snapshot_store.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"
#include "support/kafka_harness.h"
#include "support/kafka_pipeline_fixture.h"
#include "support/svg_chart.h"
#include "support/test_registry.h"

#include <catch2/catch.hpp>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

using namespace vigil;
using namespace vigil::testing;

namespace {

double setting(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atof(v) : fallback;
}

struct sample {
  double minutes = 0, rss_floor_mb = 0, rss_peak_mb = 0, lag_floor = 0, lag_peak = 0;
  double descriptors = 0, checkpoint_mb = 0, p50_ms = 0, p99_ms = 0;
  std::int64_t produced = 0, published = 0;
};

double rss_mb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atof(line.c_str() + 6) / 1024;
  return 0;
}

double descriptors(pid_t pid) {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// Bytes Redis holds under the pipeline's checkpoint prefix.
double checkpoint_mb(const std::string& redis, const std::string& prefix) {
  auto c = connectors::redis_connect(redis);
  std::string cursor = "0";
  double bytes = 0;
  do {
    auto r = connectors::redis_command(c.get(), {"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    cursor = std::string(r->element[0]->str, r->element[0]->len);
    for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
      const auto* key = r->element[1]->element[i];
      auto usage = connectors::redis_command(c.get(), {"MEMORY", "USAGE", std::string(key->str, key->len)});
      bytes += usage->type == REDIS_REPLY_INTEGER ? static_cast<double>(usage->integer) : 0;
    }
  } while (cursor != "0");
  return bytes / 1e6;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

double slope_per_minute(const std::vector<sample>& s, double (*of)(const sample&)) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& x : s) {
    n += 1;
    sx += x.minutes;
    sy += of(x);
    sxx += x.minutes * x.minutes;
    sxy += x.minutes * of(x);
  }
  const double d = n * sxx - sx * sx;
  return d > 0 ? (n * sxy - sx * sy) / d : 0;
}

// The lowest value of each whole minute, as samples at the minute's end.
std::vector<sample> minute_floors(const std::vector<sample>& s) {
  std::vector<sample> out;
  for (std::size_t i = 0; i + 6 <= s.size(); i += 6) {
    sample m = s[i + 5];
    for (std::size_t j = i; j < i + 6; ++j) {
      m.rss_floor_mb = std::min(m.rss_floor_mb, s[j].rss_floor_mb);
      m.lag_floor = std::min(m.lag_floor, s[j].lag_floor);
    }
    out.push_back(m);
  }
  return out;
}

double median_p99(std::vector<sample>::const_iterator from, std::vector<sample>::const_iterator to) {
  std::vector<double> v;
  for (auto it = from; it != to; ++it)
    v.push_back(it->p99_ms);
  return percentile(v, 0.5);
}

// Reads the decisions Vigil publishes: counts
// them, and keeps produced -> published latencies until taken.
class decision_reader {
 public:
  explicit decision_reader(const std::string& key_prefix) : prefix_(key_prefix) {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    conf->set("bootstrap.servers", services().kafka, err);
    conf->set("group.id", unique("soak-reader"), err);
    conf->set("enable.auto.commit", "false", err);
    // From the start: the test's broker is its own, and the topic may not
    // exist before the node publishes its first decision.
    conf->set("auto.offset.reset", "earliest", err);
    conf->set("topic.metadata.refresh.interval.ms", "1000", err);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    consumer_->subscribe({"fraud_predictions"});
    thread_ = std::thread([this] { run(); });
  }
  ~decision_reader() {
    stop_ = true;
    thread_.join();
    consumer_->close();
  }
  std::int64_t published() const { return published_; }
  std::vector<double> take_latencies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(latencies_, {});
  }

 private:
  void run() {
    static const std::string field = "\"source_time_ms\":";
    while (!stop_) {
      std::unique_ptr<RdKafka::Message> m{consumer_->consume(100)};
      if (m->err() != RdKafka::ERR_NO_ERROR || !m->key() || m->key()->rfind(prefix_, 0) != 0)
        continue;
      const std::string_view value(static_cast<const char*>(m->payload()), m->len());
      const auto at = value.find(field);
      if (at == std::string_view::npos)
        continue;
      const auto produced = std::strtoll(value.data() + at + field.size(), nullptr, 10);
      ++published_;
      std::lock_guard<std::mutex> lock(mutex_);
      latencies_.push_back(static_cast<double>(m->timestamp().timestamp - produced));
    }
  }

  std::string prefix_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> published_{0};
  std::mutex mutex_;
  std::vector<double> latencies_;
  std::thread thread_;
};

// Produces the simulated stream at `rate` a second, paced in 10 ms ticks,
// until stopped.
class paced_producer {
 public:
  paced_producer(const std::string& topic, const std::string& id_prefix, double rate) {
    thread_ = std::thread([=] { run(topic, id_prefix, rate); });
  }
  ~paced_producer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  std::int64_t produced() const { return produced_; }

 private:
  void run(const std::string& topic, const std::string& id_prefix, double rate) {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    conf->set("bootstrap.servers", services().kafka, err);
    conf->set("linger.ms", "5", err);
    std::unique_ptr<RdKafka::Producer> p{RdKafka::Producer::create(conf.get(), err)};
    // A fixed population (state stops growing once every user was seen)
    // over months of event time: windows roll over during the soak.
    pipeline::simulator_options o;
    o.seed = 29;
    o.users = 100'000;
    pipeline::transaction_simulator sim{o};
    const auto t0 = std::chrono::steady_clock::now();
    const auto per_tick = std::max<std::int64_t>(1, static_cast<std::int64_t>(rate / 100));
    for (std::int64_t i = 0; !stop_; ++i) {
      if (i % per_tick == 0)
        std::this_thread::sleep_until(t0 + std::chrono::duration<double>(static_cast<double>(i) / rate));
      auto tx = sim.next().tx;
      tx.transaction_id = id_prefix + tx.transaction_id;
      const auto value = pipeline::to_json(tx).dump();
      while (p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                        const_cast<char*>(value.data()), value.size(), tx.user_id.data(), tx.user_id.size(), 0,
                        nullptr) == RdKafka::ERR__QUEUE_FULL)
        p->poll(1);
      p->poll(0);
      ++produced_;
    }
    p->flush(60'000);
  }

  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> produced_{0};
  std::thread thread_;
};

void write_report(const std::vector<sample>& samples, double rate, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream csv(dir / "soak.csv");
  csv << "minutes,rss_floor_mb,rss_peak_mb,descriptors,checkpoint_mb,produced,published,lag_floor,lag_peak,p50_ms,"
         "p99_ms\n";
  std::vector<double> x;
  std::vector<chart_series> rss{{"lowest in 10 s", {}, "#1f77b4"}, {"highest in 10 s", {}, "#aec7e8"}},
    fds{{"open descriptors", {}, "#ff7f0e"}}, checkpoint{{"checkpoint MB in Redis", {}, "#2ca02c"}},
    latency{{"p50", {}, "#1f77b4"}, {"p99", {}, "#d62728"}},
    lag{{"lowest in 10 s", {}, "#9467bd"}, {"highest in 10 s", {}, "#c5b0d5"}};
  for (const auto& s : samples) {
    csv << s.minutes << "," << s.rss_floor_mb << "," << s.rss_peak_mb << "," << s.descriptors << ","
        << s.checkpoint_mb << "," << s.produced << "," << s.published << "," << s.lag_floor << "," << s.lag_peak << ","
        << s.p50_ms << "," << s.p99_ms << "\n";
    x.push_back(s.minutes);
    rss[0].values.push_back(s.rss_floor_mb);
    rss[1].values.push_back(s.rss_peak_mb);
    fds[0].values.push_back(s.descriptors);
    checkpoint[0].values.push_back(s.checkpoint_mb);
    latency[0].values.push_back(s.p50_ms);
    latency[1].values.push_back(s.p99_ms);
    lag[0].values.push_back(s.lag_floor);
    lag[1].values.push_back(s.lag_peak);
  }
  std::ofstream(dir / "soak.svg") << svg_line_charts(
    "vigil run under " + std::to_string(static_cast<int>(rate)) + " tx/s through the broker, sampled every 10 s",
    "minutes", x,
    {{"resident memory, MB", rss}, {"open file descriptors", fds}, {"checkpoint size in Redis, MB", checkpoint},
     {"produced -> published latency over each 10 s, ms", latency}, {"lag: produced, not yet published", lag}});
}

} // namespace

TEST_CASE("soak: half the sustained throughput for 30 minutes, memory, descriptors, lag and p99 stay flat",
          "[soak][kafka]") {
  const double minutes = setting("VIGIL_SOAK_MINUTES", 30), rate = setting("VIGIL_SOAK_RATE", 30'000);
  const auto& svc = services();
  auto topic = unique("soak");
  // Half an hour at this rate is tens of GB of records and decisions: the
  // broker keeps the last few minutes of each (the reader follows the head).
  const std::map<std::string, std::string> recent_only{{"retention.ms", "120000"}, {"segment.bytes", "52428800"}};
  create_topic(svc.kafka, topic, 4, recent_only);
  create_topic(svc.kafka, "fraud_predictions", 4, recent_only);
  auto dir = scratch_dir("soak");
  auto node = spawn_vigil(run_args("input_topic=" + topic + ",consumer_group=" + topic +
                                   ",node_name=soak,readback_decisions=0,auth_token_path=" +
                                   (dir / "token").string() + ",labels_path=" + (dir / "labels.jsonl").string()),
                          (dir / "vigil.log").string());
  decision_reader reader(topic + "/");
  paced_producer producer(topic, topic + "/", rate);
  const auto prefix = connectors::checkpoint_prefix(topic, topic);
  std::vector<sample> samples;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= static_cast<int>(minutes * 6); ++i) {
    sample s;
    s.rss_floor_mb = s.lag_floor = 1e18;
    for (int second = 1; second <= 10; ++second) {
      std::this_thread::sleep_until(t0 + std::chrono::seconds(10 * (i - 1) + second));
      const double rss = rss_mb(node), lag = static_cast<double>(producer.produced() - reader.published());
      s.rss_floor_mb = std::min(s.rss_floor_mb, rss);
      s.rss_peak_mb = std::max(s.rss_peak_mb, rss);
      s.lag_floor = std::min(s.lag_floor, lag);
      s.lag_peak = std::max(s.lag_peak, lag);
    }
    s.minutes = i / 6.0;
    s.descriptors = descriptors(node);
    s.checkpoint_mb = checkpoint_mb(svc.redis, prefix);
    s.produced = producer.produced();
    s.published = reader.published();
    auto latencies = reader.take_latencies();
    s.p50_ms = percentile(latencies, 0.5);
    s.p99_ms = percentile(latencies, 0.99);
    samples.push_back(s);
    std::printf("soak %5.1f min: rss %.0f-%.0f MB, fds %.0f, checkpoint %.1f MB, lag %.0f-%.0f, p50 %.0f ms, p99 %.0f "
                "ms\n",
                s.minutes, s.rss_floor_mb, s.rss_peak_mb, s.descriptors, s.checkpoint_mb, s.lag_floor, s.lag_peak,
                s.p50_ms, s.p99_ms);
    std::fflush(stdout);
    REQUIRE(::waitpid(node, nullptr, WNOHANG) == 0);  // still running
  }
  producer.stop();
  const auto produced = producer.produced();
  for (int i = 0; i < 600 && reader.published() < produced; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto published = reader.published();
  ::kill(node, SIGTERM);
  CHECK(wait_exit(node, std::chrono::seconds(60)));
  write_report(samples, rate, std::filesystem::current_path() / "soak");
  std::printf("soak: %lld produced, %lld published; report in %s\n", static_cast<long long>(produced),
              static_cast<long long>(published), (std::filesystem::current_path() / "soak").c_str());

  CHECK(published >= produced);  // a record replayed after a rebalance may repeat
  std::vector<sample> settled;
  for (const auto& s : samples)
    if (s.minutes > 5)
      settled.push_back(s);
  const auto floors = minute_floors(settled);
  REQUIRE(floors.size() >= 3);
  const double rss_slope = slope_per_minute(floors, [](const sample& s) { return s.rss_floor_mb; });
  const double fd_slope = slope_per_minute(settled, [](const sample& s) { return s.descriptors; });
  const double lag_slope = slope_per_minute(floors, [](const sample& s) { return s.lag_floor; });
  const auto third = static_cast<std::ptrdiff_t>(settled.size() / 3);
  const double middle_p99 = median_p99(settled.begin() + third, settled.begin() + 2 * third);
  const double last_p99 = median_p99(settled.begin() + 2 * third, settled.end());
  std::printf("soak after 5 min: rss floor %+.2f MB/min, descriptors %+.3f/min, lag floor %+.0f records/min, median "
              "p99 %.0f ms "
              "(middle third) -> %.0f ms (last third)\n",
              rss_slope, fd_slope, lag_slope, middle_p99, last_p99);
  CHECK(rss_slope <= 4.0);
  CHECK(fd_slope <= 0.2);
  CHECK(lag_slope <= rate);
  CHECK(last_p99 <= 1.5 * middle_p99 + 50);
}
