#include "pipeline/features/spare_user_nodes.h"

#include <algorithm>
#include <iterator>
#include <mutex>

namespace vigil::pipeline {
namespace {

struct node_pool {
  std::mutex mutex;
  std::vector<user_map::node_type> nodes;
};

node_pool& pool() {
  static node_pool p;
  return p;
}

} // namespace

void give_spare_user_nodes(user_map&& spent) {
  std::size_t room = 0;
  {
    std::lock_guard<std::mutex> lock(pool().mutex);
    room = max_spare_user_nodes - std::min(max_spare_user_nodes, pool().nodes.size());
  }
  std::vector<user_map::node_type> extracted;
  extracted.reserve(std::min(room, spent.size()));
  while (!spent.empty() && extracted.size() < room)
    extracted.push_back(spent.extract(spent.begin()));
  spent.clear();  // beyond the bound: freed
  give_spare_user_nodes(std::move(extracted));
}

void give_spare_user_nodes(std::vector<user_map::node_type>&& nodes) {
  std::lock_guard<std::mutex> lock(pool().mutex);
  for (auto& node : nodes) {
    if (pool().nodes.size() >= max_spare_user_nodes)
      break;
    pool().nodes.push_back(std::move(node));
  }
  nodes.clear();  // beyond the bound: freed
}

std::vector<user_map::node_type> take_spare_user_nodes(std::size_t n) {
  std::lock_guard<std::mutex> lock(pool().mutex);
  auto& nodes = pool().nodes;
  n = std::min(n, nodes.size());
  std::vector<user_map::node_type> out(std::make_move_iterator(nodes.end() - static_cast<std::ptrdiff_t>(n)),
                                       std::make_move_iterator(nodes.end()));
  nodes.resize(nodes.size() - n);
  return out;
}

std::size_t spare_user_nodes() {
  std::lock_guard<std::mutex> lock(pool().mutex);
  return pool().nodes.size();
}

} // namespace vigil::pipeline
