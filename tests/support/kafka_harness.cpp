#include "support/kafka_harness.h"

#include "pipeline/connectors/kafka_topic_tail.h"
#include "pipeline/connectors/redis_connection.h"
#include "support/test_registry.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <filesystem>
#include <thread>

#include <signal.h>
#include <unistd.h>

namespace vigil::testing {
namespace {

std::string run_script(const std::string& command) {
  std::array<char, 512> buf{};
  std::string out;
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe)
    throw std::runtime_error("cannot run " + command);
  while (fgets(buf.data(), buf.size(), pipe.get()))
    out += buf.data();
  int status = pclose(pipe.release());
  if (status != 0)
    throw std::runtime_error(command + " failed (" + std::to_string(status) + ")");
  auto last_newline = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
  auto last = out.substr(last_newline == std::string::npos ? 0 : last_newline + 1);
  while (!last.empty() && (last.back() == '\n' || last.back() == '\r'))
    last.pop_back();
  return last;
}

struct service_owner {
  std::string dir, harness = std::string(VIGIL_SOURCE_DIR) + "/tests/harness";
  external_services services;
  service_owner() {
    dir = scratch_dir("services").string();
    // The servers stop by themselves if this process dies without ~service_owner.
    ::setenv("VIGIL_HARNESS_OWNER", std::to_string(::getpid()).c_str(), 1);
    services.kafka = run_script(harness + "/start_kafka.sh " + dir + "/kafka");
    services.redis = run_script(harness + "/start_redis.sh " + dir + "/redis");
    std::ifstream(dir + "/redis/redis.pid") >> services.redis_pid;
    std::ifstream(dir + "/kafka/kafka.pid") >> services.kafka_pid;
    std::ifstream(dir + "/kafka/kafka.proxied") >> services.kafka_proxied_port >> services.kafka_proxy_port;
  }
  ~service_owner() {
    std::system((harness + "/stop_kafka.sh " + dir + "/kafka >/dev/null 2>&1").c_str());
    std::system((harness + "/stop_redis.sh " + dir + "/redis >/dev/null 2>&1").c_str());
  }
};

service_owner& owner() {
  static service_owner instance;
  return instance;
}

} // namespace

const external_services& services() {
  return owner().services;
}

void restart_redis(bool keep_data, std::chrono::milliseconds down) {
  auto& o = owner();
  auto dir = o.dir + "/redis";
  ::kill(o.services.redis_pid, SIGKILL);
  for (int i = 0; i < 500 && ::kill(o.services.redis_pid, 0) == 0; ++i)  // the owner's watcher reaps it
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(down);
  auto port = o.services.redis.substr(o.services.redis.rfind(':') + 1);
  if (!keep_data)
    std::filesystem::remove_all(dir + "/appendonlydir");
  o.services.redis = run_script("VIGIL_REDIS_PORT=" + port + " VIGIL_REDIS_AOF=" + (keep_data ? "1" : "0") + " " +
                                o.harness + "/start_redis.sh " + dir);
  std::ifstream(dir + "/redis.pid") >> o.services.redis_pid;
}

void kill_kafka() {
  auto& o = owner();
  pid_t pid = 0;
  std::ifstream(o.dir + "/kafka/kafka.pid") >> pid;
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 1000 && ::kill(pid, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void start_kafka_again() {
  auto& o = owner();
  auto address = run_script("VIGIL_KAFKA_RESTART=1 " + o.harness + "/start_kafka.sh " + o.dir + "/kafka");
  if (address != o.services.kafka)
    throw std::runtime_error("the broker came back on " + address + ", not " + o.services.kafka);
  std::ifstream(o.dir + "/kafka/kafka.pid") >> o.services.kafka_pid;
}

void redis_append_only(const std::string& address) {
  auto c = connectors::redis_connect(address);
  connectors::redis_command(c.get(), {"CONFIG", "SET", "appendfsync", "always"});
  connectors::redis_command(c.get(), {"CONFIG", "SET", "appendonly", "yes"});
  // Enabling it writes the file from the data set first: wait for that.
  for (int i = 0; i < 500; ++i) {
    auto info = connectors::redis_command(c.get(), {"INFO", "persistence"});
    std::string text(info->str, info->len);
    if (text.find("aof_enabled:1") != std::string::npos &&
        text.find("aof_rewrite_in_progress:0") != std::string::npos &&
        text.find("aof_rewrite_scheduled:0") != std::string::npos)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis: the append-only file was not written");
}

void create_topic(const std::string& brokers, const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(
    rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err), &rd_kafka_destroy);
  if (!rk)
    throw std::runtime_error(err);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  for (const auto& [name, value] : settings)
    rd_kafka_NewTopic_set_config(nt, name.c_str(), value.c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
  rd_kafka_CreateTopics(rk.get(), &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30'000);
  std::string failure;
  if (!ev) {
    failure = "timed out";
  } else {
    size_t n = 0;
    auto* res = rd_kafka_event_CreateTopics_result(ev);
    const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(res, &n);
    if (n == 1 && rd_kafka_topic_result_error(topics[0]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_topic_result_error(topics[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      failure = rd_kafka_topic_result_error_string(topics[0]);
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  if (!failure.empty())
    throw std::runtime_error("create topic " + topic + ": " + failure);
}

void produce(const std::string& brokers, const std::string& topic,
             const std::vector<std::pair<std::string, std::string>>& records) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  conf->set("bootstrap.servers", brokers, err);
  conf->set("linger.ms", "5", err);
  conf->set("enable.idempotence", "true", err);  // retries never reorder a partition
  std::unique_ptr<RdKafka::Producer> p{RdKafka::Producer::create(conf.get(), err)};
  for (const auto& [key, value] : records) {
    while (p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                      const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                      nullptr) == RdKafka::ERR__QUEUE_FULL)
      p->poll(10);
  }
  if (p->flush(60'000) != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("produce to " + topic + " not acknowledged");
}

std::map<std::int32_t, std::int64_t> end_offsets(const std::string& brokers, const std::string& topic) {
  std::map<std::int32_t, std::int64_t> out;
  for (const auto& [partition, range] : connectors::topic_watermarks(brokers, topic, std::chrono::seconds(10)))
    out[partition] = range.second;
  return out;
}

std::vector<kafka_record> consume_until(const std::string& brokers, const std::string& topic,
                                        const std::function<bool(const std::vector<kafka_record>&)>& done,
                                        std::chrono::seconds timeout,
                                        const std::map<std::int32_t, std::int64_t>& start_at) {
  static std::atomic<int> group_counter{0};
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", "test-reader-" + std::to_string(::getpid()) + "-" + std::to_string(group_counter++), err);
  conf->set("auto.offset.reset", "earliest", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c{RdKafka::KafkaConsumer::create(conf.get(), err)};
  if (start_at.empty()) {
    c->subscribe({topic});
  } else {
    std::vector<RdKafka::TopicPartition*> partitions;
    for (const auto& [partition, offset] : start_at)
      partitions.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
    c->assign(partitions);
    RdKafka::TopicPartition::destroy(partitions);
  }
  std::vector<kafka_record> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(out) && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m{c->consume(200)};
    if (m->err() != RdKafka::ERR_NO_ERROR)
      continue;
    kafka_record r;
    r.key = m->key() ? *m->key() : "";
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.partition = m->partition();
    r.offset = m->offset();
    r.timestamp_ms = m->timestamp().timestamp;
    if (auto* h = m->headers())
      for (const auto& header : h->get_all())
        r.headers[header.key()] = std::string(static_cast<const char*>(header.value()), header.value_size());
    out.push_back(std::move(r));
  }
  c->close();
  return out;
}

namespace {

// Runs one command; throws unless the reply type is `expected`.
void redis_expect(const std::string& address, const std::vector<std::string>& args, int expected) {
  auto c = connectors::redis_connect(address);
  if (connectors::redis_command(c.get(), args)->type != expected)
    throw std::runtime_error("redis " + args.front() + " failed");
}

} // namespace

void redis_config_set(const std::string& address, const std::string& name, const std::string& value) {
  redis_expect(address, {"CONFIG", "SET", name, value}, REDIS_REPLY_STATUS);
}

void redis_delete(const std::string& address, const std::string& key) {
  redis_expect(address, {"DEL", key}, REDIS_REPLY_INTEGER);
}

void redis_set(const std::string& address, const std::string& key, const std::string& value) {
  redis_expect(address, {"SET", key, value}, REDIS_REPLY_STATUS);
}

void redis_flush(const std::string& address) {
  redis_expect(address, {"FLUSHALL"}, REDIS_REPLY_STATUS);
}

} // namespace vigil::testing
