#pragma once
// Makes a node_name unique among running nodes: a Redis key holding this
// process's random token with a time to live, renewed in the background.
// A second node started with the same name waits for the lease (a crashed
// holder's lease expires after the TTL) and then refuses to start; the
// checkpoint store writes the node's part only while the token still holds.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace vigil::pipeline {
class counter;
}

namespace vigil::connectors {

class node_name_lease {
 public:
  /// Takes the lease on `key` at the Redis `address`, waiting up to `wait`
  /// for another holder's lease to end. Throws std::runtime_error naming
  /// the key when it stays held, or when Redis is unreachable.
  node_name_lease(std::string address, std::string key, std::chrono::milliseconds ttl,
                  std::chrono::milliseconds wait);
  /// Stops renewing and releases the lease (if still ours).
  ~node_name_lease();
  node_name_lease(const node_name_lease&) = delete;
  node_name_lease& operator=(const node_name_lease&) = delete;

  const std::string& key() const { return key_; }
  const std::string& token() const { return token_; }
  /// True once a renewal found the lease held by another node (for good:
  /// this node's checkpoints are refused from then on).
  bool lost() const { return lost_; }

 private:
  void renew_until_stopped();

  std::string address_, key_, token_;
  std::chrono::milliseconds ttl_;
  pipeline::counter& renewal_failures_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::atomic<bool> lost_{false};
  std::thread renewer_;
};

} // namespace vigil::connectors
