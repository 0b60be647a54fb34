#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "pipeline/connectors/kafka_config.h"
#include "pipeline/schema/transaction_json.h"
#include "pipeline/simulator/transaction_simulator.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

namespace vigil::cli {
namespace {

constexpr const char* help = R"(usage: vigil simulate [options]
Writes simulated, labelled transactions as JSON lines (deterministic per seed).

  --seed N              random seed (default 1)
  --count N             transactions to write (default 100000)
  --rate R              transactions per second of wall time; 0 = as fast as possible (default 0)
  --out FILE            output file (default: stdout)
  --users N             legitimate users (default: count/100)
  --fraud-scale X       multiply every fraud pattern's rate (default 1)
  --label-noise P       probability that a label is flipped (default 0)
  --label-loss P        probability that a label never arrives (default 0.02: the
                        record is written without one)
  --label-delay-min H   earliest label delay in hours (default 24)
  --label-delay-max H   latest label delay in hours (default 168)
  --start TIME          first event time, ISO-8601 UTC (default 2024-01-01T00:00:00Z)
  --brokers LIST        produce to Kafka instead of writing lines (key = user_id)
  --topic NAME          Kafka topic (default transactions)
A summary (fraud rate and per-pattern counts) goes to stderr.
)";

} // namespace

int simulate_command(const arguments& args) {
  command_line cl(args,
                  {"seed", "count", "rate", "out", "users", "fraud-scale", "label-noise", "label-loss",
                   "label-delay-min", "label-delay-max", "start", "brokers", "topic"},
                  {"help"});
  if (cl.has("help")) {
    std::cout << help;
    return 0;
  }
  pipeline::simulator_options o;
  o.seed = static_cast<std::uint64_t>(cl.integer("seed", 1));
  o.expected_count = cl.integer("count", 100'000);
  o.users = static_cast<int>(cl.integer("users", 0));
  o.fraud_scale = cl.number("fraud-scale", 1.0);
  o.label_noise = cl.number("label-noise", 0.0);
  o.label_loss = cl.number("label-loss", 0.02);
  o.label_delay_min_hours = cl.number("label-delay-min", 24);
  o.label_delay_max_hours = cl.number("label-delay-max", 168);
  if (cl.has("start")) {
    auto start = pipeline::parse_iso8601_ms(cl.text("start", ""));
    if (!start)
      throw usage_error("--start is not an ISO-8601 timestamp with zone");
    o.start_time_ms = *start;
  }
  if (o.expected_count < 0 || o.label_noise < 0 || o.label_noise > 1 || o.label_loss < 0 || o.label_loss > 1 ||
      o.fraud_scale < 0 ||
      o.label_delay_min_hours < 0 || o.label_delay_max_hours < o.label_delay_min_hours)
    throw usage_error("count, fraud-scale, label-noise and label delays must be in range");
  double rate = cl.number("rate", 0);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (cl.has("out")) {
    file.open(cl.text("out", ""));
    if (!file)
      throw usage_error("cannot open --out file");
    out = &file;
  }
  pipeline::transaction_simulator sim{o};
  std::unique_ptr<RdKafka::Producer> producer;
  std::string topic = cl.text("topic", "transactions");
  if (cl.has("brokers"))
    producer = connectors::make_producer(cl.text("brokers", ""));
  auto start = std::chrono::steady_clock::now();
  std::string line;
  for (std::int64_t i = 0; i < o.expected_count; ++i) {
    auto record = sim.next();
    if (producer) {
      // The label is ground truth for offline evaluation, not for the stream.
      line = pipeline::to_json(record.tx).dump();
      while (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               line.data(), line.size(), record.tx.user_id.data(),
                               record.tx.user_id.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL)
        producer->poll(10);
      producer->poll(0);
    } else {
      line = pipeline::to_json(record).dump();
      line += '\n';
      out->write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    if (rate > 0)
      std::this_thread::sleep_until(start + std::chrono::duration<double>((i + 1) / rate));
  }
  out->flush();
  if (producer && producer->flush(60'000) != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("Kafka did not acknowledge every record within 60 s");
  const auto& s = sim.stats();
  std::cerr << "simulated " << s.transactions << " transactions, fraud " << s.fraud << " ("
            << 100.0 * s.fraud_rate() << "%), flipped labels " << s.flipped_labels << ", lost labels "
            << s.lost_labels << "\n";
  for (int p = 0; p < pipeline::fraud_pattern_count; ++p)
    std::cerr << "  " << pipeline::to_string(static_cast<pipeline::fraud_pattern>(p)) << ": "
              << s.by_pattern[p] << " transactions in " << s.episodes[p] << " episodes\n";
  return 0;
}

} // namespace vigil::cli
