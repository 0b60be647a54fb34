#include "pipeline/cluster/partition_owners.h"

#include <algorithm>

namespace vigil::cluster {

partition_map partition_owners(const node_status& self, const std::vector<peer_link>& peers) {
  partition_map out;
  out.topic_partitions = self.topic_partitions;
  std::map<std::int32_t, std::vector<std::string>> readers;
  for (auto p : self.partitions)
    readers[p].push_back(self.node_name);
  for (const auto& link : peers) {
    if (link.state != link_state::up || !link.status)
      continue;
    out.topic_partitions = std::max(out.topic_partitions, link.status->topic_partitions);
    for (auto p : link.status->partitions)
      readers[p].push_back(link.record.node_name);
  }
  for (const auto& [partition, nodes] : readers)
    if (nodes.size() == 1)
      out.owner[partition] = nodes.front();
  return out;
}

predict_split split_by_owner(const std::vector<std::string>& user_ids, const partition_map& owners,
                             const std::function<std::int32_t(const std::string&, std::int32_t)>& partition_of_user) {
  predict_split out;
  if (owners.topic_partitions <= 0) {
    out.error = "the input topic's partitions are not known yet; retry";
    return out;
  }
  for (std::size_t i = 0; i < user_ids.size(); ++i) {
    auto partition = partition_of_user(user_ids[i], owners.topic_partitions);
    auto it = owners.owner.find(partition);
    if (it == owners.owner.end()) {
      out.error = "partition " + std::to_string(partition) + " (user " + user_ids[i] +
                  ") has no owner now: the consumer group is rebalancing or its node is unreachable; retry";
      out.by_node.clear();
      return out;
    }
    out.by_node[it->second].push_back(i);
  }
  return out;
}

} // namespace vigil::cluster
