#pragma once
// An embedded node serving HTTP on a free loopback port for one test, in a
// scratch folder of its own, stopped when the test ends.

#include "actors/node/vigil_node.h"
#include "support/test_registry.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace vigil::testing {

struct running_node {
  std::filesystem::path dir;
  std::unique_ptr<actors::vigil_node> node;
  unsigned short port = 0;

  /// embedded_config(dir, count) with `token`, changed by `adjust`.
  running_node(const std::string& name, std::int64_t count, const std::string& token,
               const std::function<void(config::runtime_config&)>& adjust = {})
    : dir(scratch_dir(name)) {
    auto c = embedded_config(dir, count);
    c.auth_token = token;
    if (adjust)
      adjust(c);
    node = std::make_unique<actors::vigil_node>(c, "");
    node->start();
    port = node->http_port();
  }
  ~running_node() { node->stop(); }
  running_node(const running_node&) = delete;
  running_node& operator=(const running_node&) = delete;
};

} // namespace vigil::testing
