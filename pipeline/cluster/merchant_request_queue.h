#pragma once
// The sending side of cluster-wide merchant state, for one local merchant
// actor: the merchant parts of its batches, queued per global shard, sent
// one request at a time per shard (the next only after the last was
// answered, so a shard sees each partition's records in offset order even
// across a change of holder), and joined back into whole batches as the
// features come back. Plain C++.

#include "pipeline/cluster/merchant_wire.h"

#include <deque>
#include <map>
#include <optional>

namespace vigil::cluster {

class merchant_request_queue {
 public:
  explicit merchant_request_queue(std::size_t max_updates_per_request = 4096)
    : max_per_request_(max_updates_per_request) {}

  using completed = std::vector<std::pair<std::uint64_t, pipeline::work_batch>>;
  /// Queues every item of batch `id` for its merchant's shard. Returns the
  /// batch at once when it is empty.
  completed add_batch(std::uint64_t id, pipeline::work_batch batch);
  /// Queues a label for `merchant_id`'s shard.
  void add_label(const std::string& merchant_id, std::int64_t event_time_ms, bool is_fraud);

  /// Shards with updates queued and no request in flight.
  std::vector<int> sendable() const;
  /// The next request of `shard` (encoded), now in flight.
  std::string take_request(int shard);
  /// The answer to `shard`'s request in flight: fills the features in and
  /// returns the batches now complete; nullopt (nothing changed) when the
  /// answer does not have one set of features per record sent.
  std::optional<completed> answered(int shard, const std::vector<float>& features);
  /// `shard`'s request failed: its updates are first in line again.
  void failed(int shard);

  bool in_flight(int shard) const;
  std::size_t waiting_batches() const { return batches_.size(); }
  std::size_t queued_updates() const { return queued_; }

 private:
  struct entry {
    std::uint64_t batch_id = 0;
    std::uint32_t index = 0;
    std::optional<merchant_update> label;  ///< set for a label
  };
  struct lane {
    std::deque<entry> queue;  ///< the first `in_flight` are in the request sent
    std::size_t in_flight = 0;
  };
  struct waiting_batch {
    pipeline::work_batch items;
    std::size_t remaining = 0;
  };
  std::size_t max_per_request_;
  std::map<int, lane> lanes_;
  std::map<std::uint64_t, waiting_batch> batches_;
  std::size_t queued_ = 0;
};

} // namespace vigil::cluster
