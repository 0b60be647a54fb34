#pragma once
// Real Kafka (KRaft) and Redis for integration tests, started once per test
// process by tests/harness/*.sh on free loopback ports and stopped at exit.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vigil::testing {

struct external_services {
  std::string kafka;  ///< bootstrap address
  std::string redis;  ///< host:port
  int redis_pid = 0;  ///< for chaos tests that stall Redis (SIGSTOP/SIGCONT)
  int kafka_pid = 0;  ///< for benchmarks that count the broker's CPU
  /// The broker's listener for a fault_proxy, and the port it advertises
  /// (where the proxy must listen): clients bootstrapping at the proxy keep
  /// every connection on it.
  int kafka_proxied_port = 0, kafka_proxy_port = 0;
};

/// Starts both on first use (bounded waits inside the scripts). Throws when
/// either cannot start.
const external_services& services();

/// `settings`: topic configs (retention.ms, segment.bytes, ...).
void create_topic(const std::string& brokers, const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& settings = {});

struct kafka_record {
  std::string key, value;
  std::map<std::string, std::string> headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;  ///< the record's CreateTime
};

/// Produces and waits for every acknowledgement.
void produce(const std::string& brokers, const std::string& topic,
             const std::vector<std::pair<std::string, std::string>>& records);

/// Partition -> next offset of `topic` now (empty if it does not exist yet).
std::map<std::int32_t, std::int64_t> end_offsets(const std::string& brokers, const std::string& topic);

/// Reads `topic` until `done(records)` or the timeout: from the beginning
/// with a fresh group, or, given `start_at` (see end_offsets), from those
/// offsets only, skipping what was there before (benchmarks: the reader
/// does not scan older runs' records on the cores it shares with the node).
std::vector<kafka_record> consume_until(const std::string& brokers, const std::string& topic,
                                        const std::function<bool(const std::vector<kafka_record>&)>& done,
                                        std::chrono::seconds timeout,
                                        const std::map<std::int32_t, std::int64_t>& start_at = {});

/// CONFIG SET on a Redis server (chaos tests: make it refuse writes).
void redis_config_set(const std::string& address, const std::string& name, const std::string& value);
/// DEL of a Redis key (chaos tests: a lease that expired).
void redis_delete(const std::string& address, const std::string& key);
/// SET of a Redis key (chaos tests: another node takes a lease).
void redis_set(const std::string& address, const std::string& key, const std::string& value);
/// kill -9 of the test's broker (its data stays on disk).
void kill_kafka();
/// The killed broker again, on the same ports and data.
void start_kafka_again();
/// kill -9 of the test's Redis, `down` with none, then a new one on the same
/// port and folder: with the data it had (append-only file, see
/// redis_append_only) or empty. services().redis_pid follows.
void restart_redis(bool keep_data, std::chrono::milliseconds down);
/// Turns on the append-only file, fsynced on every write, and waits until
/// it holds the data set.
void redis_append_only(const std::string& address);
/// FLUSHALL: every key gone, as after a restart without persistence.
void redis_flush(const std::string& address);

} // namespace vigil::testing
