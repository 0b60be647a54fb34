#include "actors/cluster/predict_router.h"

#include "actors/node/async_request.h"
#include "actors/pipeline/vigil_atoms.h"
#include "pipeline/connectors/kafka_partitioner.h"
#include "pipeline/metrics/metrics_registry.h"
#include "pipeline/schema/transaction_json.h"

#include <caf/all.hpp>

namespace vigil::actors {
namespace {

/// Longer than the owner's own pass deadline (5 s), so an owner that is
/// alive but slow answers 503 itself first.
constexpr auto forward_timeout = std::chrono::seconds(6);

// Collects the shares' answers; the last one (or the first failure) answers.
class fan_in {
 public:
  fan_in(std::size_t items, std::size_t shares, http::decisions_continuation done)
    : results_(items), pending_(shares), done_(std::move(done)) {}

  void add(const std::string& node, const std::vector<std::size_t>& indices,
           http::outcome<std::vector<std::string>> outcome) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!done_)
      return;  // an earlier share failed
    auto* decisions = std::get_if<std::vector<std::string>>(&outcome);
    if (decisions && decisions->size() != indices.size())
      outcome = vigil_error(vigil_errc::internal, "node " + node + " answered " + std::to_string(decisions->size()) +
                                                    " decisions for " + std::to_string(indices.size()));
    if (auto* e = std::get_if<vigil_error>(&outcome)) {
      auto done = std::move(done_);
      done_ = nullptr;
      lock.unlock();
      return done(*e);
    }
    for (std::size_t k = 0; k < indices.size(); ++k)
      results_[indices[k]] = std::move((*decisions)[k]);
    if (--pending_ > 0)
      return;
    auto done = std::move(done_);
    done_ = nullptr;
    auto results = std::move(results_);
    lock.unlock();
    done(std::move(results));
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> results_;
  std::size_t pending_;
  http::decisions_continuation done_;
};

pipeline::counter& forwarded_counter() {
  static auto& c = pipeline::metrics().get_counter(
    "vigil_predict_forwarded_total", "Transactions of /predict answered by the node that reads their user's partition");
  return c;
}

} // namespace

std::string not_read_here(const std::vector<pipeline::transaction>& txs, const cluster::ownership_board* ownership,
                          const std::string& partitioner, const std::string& node_name) {
  auto read = ownership ? ownership->current() : nullptr;
  if (!read || read->topic_partitions <= 0)
    return "node " + node_name + " does not know its partitions yet; retry";
  std::vector<std::string> users;
  for (const auto& tx : txs)
    users.push_back(tx.user_id);
  if (auto unread = connectors::first_unread(users, read->read, read->topic_partitions, partitioner))
    return "node " + node_name + " does not read partition " + std::to_string(unread->second) + " (user " +
           unread->first + ") now; retry";
  return "";
}

std::int32_t predict_flags(const http::predict_call& call) {
  return (call.update ? 1 : 0) | (call.explain ? 2 : 0) | (call.features ? 4 : 0);
}

void set_predict_flags(std::int32_t flags, http::predict_call& call) {
  call.update = flags & 1;
  call.explain = flags & 2;
  call.features = flags & 4;
}

void route_predict(caf::actor_system& sys, const predict_routes& routes, http::predict_call call,
                   const std::function<void(http::predict_call, http::decisions_continuation)>& local,
                   http::decisions_continuation done) {
  std::vector<std::string> users;
  users.reserve(call.transactions.size());
  for (const auto& tx : call.transactions)
    users.push_back(tx.user_id);
  const auto& partitioner = routes.partitioner;
  auto split = cluster::split_by_owner(users, routes.partitions, [&](const std::string& user, std::int32_t n) {
    return connectors::partition_of(user, n, partitioner);
  });
  if (!split.error.empty())
    return done(vigil_error(vigil_errc::pipeline_unavailable, split.error));
  if (split.by_node.size() == 1 && split.by_node.begin()->first == routes.self)
    return local(std::move(call), std::move(done));  // the common case: no copy, no fan-in
  auto join = std::make_shared<fan_in>(call.transactions.size(), split.by_node.size(), std::move(done));
  for (auto& [node, indices] : split.by_node) {
    auto answer = [join, node = node, indices = indices](http::outcome<std::vector<std::string>> outcome) {
      join->add(node, indices, std::move(outcome));
    };
    if (node == routes.self) {
      http::predict_call share;
      share.update = call.update;
      share.explain = call.explain;
      share.features = call.features;
      share.expensive = call.expensive;
      for (auto i : indices)
        share.transactions.push_back(call.transactions[i]);
      local(std::move(share), answer);
      continue;
    }
    auto peer = routes.peers.find(node);
    if (peer == routes.peers.end()) {
      answer(vigil_error(vigil_errc::pipeline_unavailable,
                         "node " + node + " reads the partition of user " + users[indices.front()] +
                           " but is not linked to this node; retry"));
      continue;
    }
    std::vector<std::string> texts;
    for (auto i : indices)
      texts.push_back(pipeline::to_json(call.transactions[i]).dump());
    forwarded_counter().add(indices.size());
    auto user = users[indices.front()];
    async_request<std::vector<std::string>>(
      sys, peer->second, forward_timeout,
      [answer, node = node, user, &sys](caf::expected<std::vector<std::string>> decisions) {
        if (decisions)
          return answer(std::move(*decisions));
        answer(vigil_error(vigil_errc::pipeline_unavailable,
                           "node " + node + ", which reads the partition of user " + user +
                             ", did not answer: " + sys.render(decisions.error())));
      },
      predict_atom::value, std::move(texts), predict_flags(call));
  }
}

} // namespace vigil::actors
