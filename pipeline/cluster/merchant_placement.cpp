#include "pipeline/cluster/merchant_placement.h"

#include "pipeline/features/recent_set.h"
#include "pipeline/stream/keyed_shards.h"

namespace vigil::cluster {
namespace {

// splitmix64's finaliser: FNV-1a alone leaves names that differ in their
// last characters close together in the high bits.
std::uint64_t mixed(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

int merchant_shard_of(const std::string& merchant_id) {
  return pipeline::shard_of(merchant_id, merchant_shard_count);
}

std::string merchant_shard_holder(int shard, const std::vector<std::string>& members) {
  std::string best;
  std::uint64_t best_weight = 0;
  for (const auto& name : members) {
    auto key = name + '#' + std::to_string(shard);
    auto weight = mixed(pipeline::stable_hash(key.data(), key.size()));
    // Ties (practically never) go to the smaller name, so every node agrees.
    if (best.empty() || weight > best_weight || (weight == best_weight && name < best)) {
      best = name;
      best_weight = weight;
    }
  }
  return best;
}

std::vector<std::string> merchant_shard_holders(const std::vector<std::string>& members) {
  std::vector<std::string> holders;
  holders.reserve(merchant_shard_count);
  for (int shard = 0; shard < merchant_shard_count; ++shard)
    holders.push_back(merchant_shard_holder(shard, members));
  return holders;
}

} // namespace vigil::cluster
