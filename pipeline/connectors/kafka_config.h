#pragma once
// librdkafka configuration helpers: every setting failure becomes an
// exception naming the key.

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace vigil::connectors {

/// Thrown when librdkafka refuses a setting or a client cannot be created.
struct kafka_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A global configuration with `settings` applied.
std::unique_ptr<RdKafka::Conf> make_kafka_conf(const std::map<std::string, std::string>& settings);

/// How the stream's consumer fetches: Vigil's source, and the bench's
/// passthrough baseline, which must read the same way.
std::map<std::string, std::string> stream_fetch_settings();

/// A producer for `brokers` (idempotent, acks=all).
std::unique_ptr<RdKafka::Producer> make_producer(const std::string& brokers,
                                                 RdKafka::DeliveryReportCb* delivery = nullptr,
                                                 const std::map<std::string, std::string>& extra = {});

} // namespace vigil::connectors

namespace vigil::connectors {

/// Asks the cluster for metadata through one client kept for every probe
/// (a client per probe would start librdkafka's threads and connections
/// every second).
class kafka_reachability {
 public:
  explicit kafka_reachability(std::string brokers) : brokers_(std::move(brokers)) {}
  /// True when the cluster answers a metadata request within 2 s.
  bool check();

 private:
  std::string brokers_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

} // namespace vigil::connectors
