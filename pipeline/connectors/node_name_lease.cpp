#include "pipeline/connectors/node_name_lease.h"

#include "pipeline/cluster/member_record.h"
#include "pipeline/connectors/redis_connection.h"
#include "pipeline/metrics/metrics_registry.h"

#include <iostream>
#include <stdexcept>

namespace vigil::connectors {
namespace {

// Renews a lease that still holds our token (1), takes it again if it
// expired with nobody else taking it, e.g. over a long Redis stall (2), and
// leaves a lease another node holds alone (0).
constexpr const char* renew_script = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
)lua";
// Releases only a lease that still holds our token.
constexpr const char* release_script =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

} // namespace

node_name_lease::node_name_lease(std::string address, std::string key, std::chrono::milliseconds ttl,
                                 std::chrono::milliseconds wait)
  : address_(std::move(address)), key_(std::move(key)), token_(cluster::new_incarnation()), ttl_(ttl),
    renewal_failures_(pipeline::metrics().get_counter(
      "vigil_node_lease_renewal_failures_total",
      "Renewals of the node_name lease that failed or found it held by another node")) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  bool announced = false;
  for (;;) {
    auto c = redis_connect(address_);
    auto r = redis_command(c.get(), {"SET", key_, token_, "NX", "PX", std::to_string(ttl_.count())});
    if (r->type == REDIS_REPLY_STATUS)
      break;
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("node_name lease " + key_ +
                               " is held by another running node; give each node a distinct node_name");
    if (!announced)
      std::cerr << "vigil: waiting for the node_name lease " << key_
                << " (held by another node, or by a crashed one until it expires)\n";
    announced = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  renewer_ = std::thread([this] { renew_until_stopped(); });
}

node_name_lease::~node_name_lease() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  renewer_.join();
  try {
    auto c = redis_connect(address_);
    redis_command(c.get(), {"EVAL", release_script, "1", key_, token_});
  } catch (const std::exception&) {
    // Unreachable Redis: the lease expires by itself.
  }
}

void node_name_lease::renew_until_stopped() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_signal_.wait_for(lock, ttl_ / 3, [this] { return stopping_; })) {
    lock.unlock();
    try {
      auto c = redis_connect(address_);
      auto r = redis_command(c.get(), {"EVAL", renew_script, "1", key_, token_, std::to_string(ttl_.count())});
      if (r->integer == 2)
        std::cerr << "vigil: the node_name lease " << key_ << " had expired unclaimed; taken again\n";
      if (r->integer == 0) {
        lost_ = true;
        renewal_failures_.add();
        std::cerr << "vigil: the node_name lease " << key_
                  << " is held by another node; this node's checkpoints are refused\n";
      }
    } catch (const std::exception& e) {
      renewal_failures_.add();
      std::cerr << "vigil: cannot renew the node_name lease: " << e.what() << "\n";
    }
    lock.lock();
  }
}

} // namespace vigil::connectors
