#pragma once
// Where a merchant's state lives in a cluster. Merchants hash to one of
// merchant_shard_count global shards, the same on every node; each shard
// belongs to one live member, chosen by rendezvous hashing, so a member
// joining or leaving moves only the shards it takes or gives up. Plain C++.

#include <string>
#include <vector>

namespace vigil::cluster {

/// Global merchant shards. A node's local merchant actors must divide this
/// count (config merchant_shards), so that every merchant of one global
/// shard passes through the same local actor, in order.
constexpr int merchant_shard_count = 64;

/// The global shard of a merchant: pipeline::shard_of over merchant_shard_count.
int merchant_shard_of(const std::string& merchant_id);

/// The member (by node name) that holds global shard `shard`: the highest
/// rendezvous weight of (member, shard). "" when there is no member.
std::string merchant_shard_holder(int shard, const std::vector<std::string>& members);

/// merchant_shard_holder of every shard, by shard: computed once per
/// membership change, read per request.
std::vector<std::string> merchant_shard_holders(const std::vector<std::string>& members);

} // namespace vigil::cluster
