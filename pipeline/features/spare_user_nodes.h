#pragma once
// Memory for checkpoint copies, kept between checkpoints. A checkpoint's
// copy of the users it changed (about 5 KB each) was allocated afresh each
// time and freed by the save worker, and the freed memory went back to the
// system: every page of the next copy faulted in again, 1.27 faults a user
// and 5-50 us a fault on this machine's VM under load, so a 5,000-user copy
// held its shard 100-250 ms while a 256-user slice without faults took
// 0.5 ms (per-slice getrusage, latency bench at 30,000 tx/s). Instead the
// save hands the copy's map nodes back here and the next copy refills them.
// Process-wide and thread-safe: shards on any thread take, the save worker
// gives.

#include "pipeline/features/entity_state.h"

#include <cstddef>
#include <vector>

namespace vigil::pipeline {

/// At most this many nodes are kept (about 100 MB); the rest are freed.
constexpr std::size_t max_spare_user_nodes = 20'000;

/// Keeps the nodes of `spent` (a saved copy's users) for the next copies.
void give_spare_user_nodes(user_map&& spent);
/// The same for nodes already taken out of their map.
void give_spare_user_nodes(std::vector<user_map::node_type>&& nodes);
/// Up to `n` kept nodes (fewer when fewer are kept), their contents stale.
std::vector<user_map::node_type> take_spare_user_nodes(std::size_t n);
/// Nodes kept now.
std::size_t spare_user_nodes();

} // namespace vigil::pipeline
