#include "pipeline/connectors/kafka_config.h"

namespace vigil::connectors {

std::unique_ptr<RdKafka::Conf> make_kafka_conf(const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  std::string error;
  for (const auto& [key, value] : settings)
    if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK)
      throw kafka_error("kafka setting " + key + ": " + error);
  return conf;
}

std::map<std::string, std::string> stream_fetch_settings() {
  // A fetch waits at the broker until it has a record (fetch.min.bytes 1)
  // or this long: with records arriving it returns at once whatever this
  // is. While the input is quiet, each consumer asks again every this many
  // ms: at 5 ms an idle node cost the broker 150-250 ms of CPU a second,
  // three nodes 300 (cluster stream bench, idle phase), at 100 ms 50-80.
  return {{"fetch.wait.max.ms", "100"},
          // librdkafka 2.0.2 stops fetching for a whole second once its
          // queue holds this much, so the queue must last longer than that
          // at full speed: with 16 MB (40,000 records) the stream starved
          // ~250 ms of every second (pipeline bench).
          {"queued.max.messages.kbytes", "65536"},
          {"queued.min.messages", "200000"}};
}

std::unique_ptr<RdKafka::Producer> make_producer(const std::string& brokers,
                                                 RdKafka::DeliveryReportCb* delivery,
                                                 const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> settings{{"bootstrap.servers", brokers},
                                              {"enable.idempotence", "true"},
                                              {"acks", "all"},
                                              {"linger.ms", "5"},
                                              {"compression.type", "lz4"}};
  for (const auto& kv : extra)
    settings[kv.first] = kv.second;
  auto conf = make_kafka_conf(settings);
  std::string error;
  if (delivery && conf->set("dr_cb", delivery, error) != RdKafka::Conf::CONF_OK)
    throw kafka_error("kafka dr_cb: " + error);
  std::unique_ptr<RdKafka::Producer> producer{RdKafka::Producer::create(conf.get(), error)};
  if (!producer)
    throw kafka_error("cannot create Kafka producer: " + error);
  return producer;
}

} // namespace vigil::connectors

namespace vigil::connectors {

bool kafka_reachability::check() {
  try {
    if (!producer_)
      producer_ = make_producer(brokers_, nullptr, {{"enable.idempotence", "false"}});
    RdKafka::Metadata* metadata = nullptr;
    auto rc = producer_->metadata(true, nullptr, &metadata, 2000);
    delete metadata;
    return rc == RdKafka::ERR_NO_ERROR;
  } catch (const kafka_error&) {
    return false;
  }
}

} // namespace vigil::connectors
