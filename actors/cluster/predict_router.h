#pragma once
// /predict in a cluster: each transaction is answered by the node that reads
// its user's input partition (it holds the user's history), this node's own
// share through its gateway and the rest through the owners' peer actors
// over the middleman. A transaction whose partition has no owner, or whose
// owner does not answer, fails the call (503): it is never scored here
// without the user's history.

#include "actors/pipeline/actor_interfaces.h"
#include "http/node_api.h"
#include "pipeline/cluster/partition_owners.h"

#include <caf/fwd.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigil::actors {

/// Where each partition's users are answered, as the membership actor last
/// saw it (at most a second old; an owner refuses users it no longer reads).
struct predict_routes {
  std::string self;
  std::string partitioner;  ///< the producers' (config input_partitioner)
  cluster::partition_map partitions;
  std::map<std::string, cluster_peer_actor> peers;  ///< linked peers by node name
  cluster_peer_actor local;                          ///< this node's own peer
  std::string coordinator;  ///< the node holding the retrain coordinator's lease ("" = not known)
  /// Who holds each global merchant shard (cluster::merchant_shard_holders
  /// over this node and its linked peers), by shard.
  std::vector<std::string> merchant_holders;
};
using predict_routes_ptr = std::shared_ptr<const predict_routes>;

/// The membership actor publishes, HTTP threads read.
using predict_route_board = cluster::snapshot_board<predict_routes>;

/// "" when this node (`node_name`) reads the partitions of every
/// transaction's user now, as `ownership` says, else why not (naming the
/// first such user and partition).
std::string not_read_here(const std::vector<pipeline::transaction>& txs, const cluster::ownership_board* ownership,
                          const std::string& partitioner, const std::string& node_name);

/// update, explain and features as the bits of a forwarded call.
std::int32_t predict_flags(const http::predict_call& call);
void set_predict_flags(std::int32_t flags, http::predict_call& call);

/// Calls `done` once: every decision in request order, or the first failure.
/// `local` answers this node's share (the gateway).
void route_predict(caf::actor_system& sys, const predict_routes& routes, http::predict_call call,
                   const std::function<void(http::predict_call, http::decisions_continuation)>& local,
                   http::decisions_continuation done);

} // namespace vigil::actors
