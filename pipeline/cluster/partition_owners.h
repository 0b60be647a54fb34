#pragma once
// Who reads which input partition, from the members' status answers, and a
// /predict split by the owner of each user's partition: the owner holds the
// user's history, so only its answer is the stream's answer. Plain C++.

#include "pipeline/cluster/member_table.h"
#include "pipeline/cluster/snapshot_board.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigil::cluster {

/// The input partitions one node reads now, and how many the topic has.
struct partition_ownership {
  std::vector<std::int32_t> read;
  std::int32_t topic_partitions = 0;  ///< 0: not known (yet)
};
using partition_ownership_ptr = std::shared_ptr<const partition_ownership>;

/// This node's partition ownership as its source last changed it: published
/// before the users of revoked partitions are let go and after assigned
/// ones' users are installed, so whoever answers /predict on this node
/// refuses the users it no longer holds.
using ownership_board = snapshot_board<partition_ownership>;

struct partition_map {
  std::int32_t topic_partitions = 0;  ///< 0: not known
  std::map<std::int32_t, std::string> owner;  ///< partitions with exactly one reader
};

/// From this node's status and those of the peers whose links are up. A
/// partition two nodes report (one has not let it go yet) has no owner.
partition_map partition_owners(const node_status& self, const std::vector<peer_link>& peers);

/// Item indices of one /predict call, by the node that must answer them.
struct predict_split {
  std::map<std::string, std::vector<std::size_t>> by_node;
  std::string error;  ///< why some item has no owner ("" = none)
};

/// `partition_of_user(user, topic_partitions)` is the producers'
/// partitioner.
predict_split split_by_owner(const std::vector<std::string>& user_ids, const partition_map& owners,
                             const std::function<std::int32_t(const std::string&, std::int32_t)>& partition_of_user);

} // namespace vigil::cluster
