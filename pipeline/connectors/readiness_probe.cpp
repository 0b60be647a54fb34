#include "pipeline/connectors/readiness_probe.h"

#include "pipeline/connectors/kafka_config.h"
#include "pipeline/connectors/redis_snapshot_store.h"

namespace vigil::connectors {

readiness_probe::readiness_probe(std::string brokers, std::string redis, int interval_ms)
  : brokers_(std::move(brokers)), redis_address_(std::move(redis)) {
  probe();
  thread_ = std::thread([this, interval_ms] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stopping_; })) {
      lock.unlock();
      probe();
      lock.lock();
    }
  });
}

readiness_probe::~readiness_probe() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void readiness_probe::probe() {
  if (!brokers_.empty() && !kafka_probe_)
    kafka_probe_ = std::make_unique<kafka_reachability>(brokers_);
  kafka_ = brokers_.empty() || kafka_probe_->check();
  redis_ = redis_address_.empty() || redis_snapshot_store::reachable(redis_address_);
}

} // namespace vigil::connectors
