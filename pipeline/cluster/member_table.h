#pragma once
// A node's view of its cluster, as a state machine the membership actor
// drives: the registry says who is registered, the middleman says which
// links came up or went down, status answers say who is alive. It decides
// whom to connect (with backoff) and whom to drop, and never does I/O, so
// every transition is unit-tested. Plain C++: no CAF.

#include "pipeline/cluster/member_record.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::cluster {

enum class link_state {
  connecting,  ///< a connect or join is in flight
  up,          ///< joined; its status answers arrive
  down,        ///< lost or never reached; retried at retry_at_ms
  refused,     ///< it refused to join (another cluster token, another interface); retried too
};

const char* to_string(link_state s);

struct peer_link {
  member_record record;
  link_state state = link_state::down;
  std::int64_t since_ms = 0;  ///< when it entered this state
  std::string reason;         ///< why it is down or refused ("" otherwise)
  int failures = 0;           ///< connects failed in a row
  std::int64_t retry_at_ms = 0;
  int missed_status = 0;      ///< status requests unanswered in a row
  std::optional<node_status> status;
  std::int64_t status_at_ms = 0;
};

/// One pass over the registry's records: links to open, and peers gone
/// from the registry or replaced by a new incarnation (their links drop).
struct registry_outcome {
  std::vector<member_record> connect;
  std::vector<std::string> departed;  ///< node names whose old link must be dropped
};

class member_table {
 public:
  /// Status requests a peer may miss in a row before its link counts as down.
  static constexpr int max_missed_status = 3;
  /// The longest wait between two connects to a peer that keeps failing.
  static constexpr std::int64_t max_backoff_ms = 8'000;

  explicit member_table(std::string self_name) : self_(std::move(self_name)) {}

  /// The registry's records now (this node's own included or not).
  registry_outcome on_registry(const std::vector<member_record>& records, std::int64_t now_ms);
  /// Events about one incarnation of a peer; stale ones (another
  /// incarnation, or a state they do not apply to) change nothing.
  void on_connected(const std::string& name, const std::string& incarnation, std::int64_t now_ms);
  void on_connect_failed(const std::string& name, const std::string& incarnation, const std::string& reason,
                         bool refused, std::int64_t now_ms);
  /// The link broke (the middleman's down message).
  void on_down(const std::string& name, const std::string& incarnation, const std::string& reason,
               std::int64_t now_ms);
  void on_status(const std::string& name, const node_status& status, std::int64_t now_ms);
  /// True when this miss takes the link down (the caller drops its handle).
  bool on_status_missed(const std::string& name, const std::string& incarnation, const std::string& reason,
                        std::int64_t now_ms);

  const std::string& self() const { return self_; }
  const std::map<std::string, peer_link>& peers() const { return peers_; }
  /// This node plus every peer whose link is up.
  std::size_t live_members() const;

 private:
  peer_link* find(const std::string& name, const std::string& incarnation);
  void fail(peer_link& p, link_state state, const std::string& reason, std::int64_t now_ms);

  std::string self_;
  std::map<std::string, peer_link> peers_;
};

} // namespace vigil::cluster
