#pragma once
// Every setting of a running Vigil node, with whole-object validation.
// JSON field names equal the member names.

#include "pipeline/rules/rule_set.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::config {

/// The token a fresh install starts with: refused on any address but
/// loopback, and warned about there.
constexpr const char* default_auth_token = "change-me";

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_address(const std::string& address);

struct runtime_config {
  // Decisions. review_threshold < 0 means "the model's F2 threshold".
  double review_threshold = -1;
  double decline_threshold = 0.9;
  // Pipeline (live): micro-batching and credit.
  int batch_size = 256;              ///< records per batch
  int batch_deadline_ms = 20;        ///< a partial batch leaves after this
  /// Credit: batches between source and sink. A batch holds its credit
  /// until its decisions are published (acknowledged by the broker), so
  /// this must cover the produce round trip at full speed: 32 held this
  /// machine to 17k tx/s, 128 reached 62k (README, Benchmarks).
  int max_in_flight_batches = 128;
  /// Without credit this long, the source pauses its input partitions. Not
  /// less: librdkafka 2.0.2 starts fetching a resumed partition only at
  /// its next round, up to a second later, so every pause cost the stream
  /// about a second of input (the bench, with a 20 ms grace, paused every
  /// second or two under backlog); a paused input frees librdkafka's
  /// prefetch for a long stall.
  int pause_input_after_ms = 1'000;
  std::int64_t allowed_lateness_ms = 600'000;
  /// Event times further ahead than this are refused: /predict answers 422
  /// (against this server's clock), the stream dead-letters the record
  /// (against its broker timestamp). Restart only.
  std::int64_t max_event_time_skew_ms = 300'000;
  // Pipeline (restart only): parallelism.
  int user_shards = 2;
  /// Users, and merchants, that only /predict?update=true or labels created
  /// (no input record brought them) kept at most; the least recently used
  /// is forgotten first. Restart only.
  std::int64_t max_http_keys = 20'000;
  int merchant_shards = 2;
  int scorers = 2;
  // Model.
  std::string registry_dir = "registry";
  std::string model_stage = "production";  ///< stage whose model is served
  bool reasons_for_approved = false;       ///< compute reasons for every decision
  /// Feature toggles: these features are scored as missing (NaN), as if the
  /// upstream signal were unavailable. Names from the feature schema.
  std::vector<std::string> disabled_features;
  /// Rules beside the model (pipeline/rules/rule_set.h), evaluated in list
  /// order after it, live; each hit is a reason of the decision.
  std::vector<rules::rule_definition> rules;
  /// Shadow: every decision is also made by a candidate (a registry
  /// version, 0 = the served model, and a candidate rule list) and
  /// published apart (fraud_predictions_shadow, or decisions_path with
  /// "-shadow" before its extension); it never changes a served decision.
  bool shadow_enabled = false;
  int shadow_model_version = 0;
  std::vector<rules::rule_definition> shadow_rules;
  // Retraining.
  std::string retrain_daily_at = "03:00";  ///< UTC HH:MM, "" = no schedule
  int retrain_min_new_labels = 10'000;     ///< 0 = no count trigger
  double promote_margin = 0.005;           ///< candidate PR-AUC must beat champion by this
  double drift_retrain_psi = 0;            ///< retrain when a PSI over drift_window exceeds this (0 = off)
  std::string drift_window = "7d";         ///< "24h", "7d" or "30d" of event time
  int drift_min_rows = 1000;               ///< rows the window needs before drift counts
  /// Published decisions read back at start so feedback for them still
  /// joins (restart only; 0 = none). At most the scored log's 500,000.
  int readback_decisions = 100'000;
  // I/O (restart only).
  std::string brokers;                     ///< "" = embedded pipeline
  std::string input_topic = "transactions";
  std::string consumer_group = "vigil";     ///< Kafka group; also names the checkpoint
  std::string node_name;                   ///< "" = host name; names this node's checkpoint part
  std::string redis;                       ///< host:port, "" = local snapshot file
  std::string snapshot_path = "vigil-state.snapshot";
  int snapshot_interval_ms = 10'000;
  std::string decisions_path = "decisions.jsonl";
  std::string labels_path = "labels.jsonl";
  std::string http_address = "127.0.0.1";
  int http_port = 8080;
  // Cluster (restart only): nodes with brokers and redis that share the
  // consumer group and input topic register in Redis and link through
  // CAF's middleman; a node joins only with the cluster's auth_token.
  int cluster_port = 0;                        ///< 0 = any free port, -1 = not clustered
  /// The partitioner of the input topic's producers (keyed by user_id), so
  /// /predict reaches the node reading a user's partition:
  /// "consistent_random" (librdkafka's default) or "murmur2_random" (Java's).
  std::string input_partitioner = "consistent_random";
  std::string cluster_address = "127.0.0.1";   ///< interface the cluster port listens on
  /// Host peers dial; "" = cluster_address, or the host name when that
  /// listens on every interface (0.0.0.0, ::).
  std::string cluster_advertise;
  /// Port peers dial; 0 = the cluster port bound. For a port that is
  /// forwarded to this one (a container's published port, a NAT, a proxy).
  int cluster_advertise_port = 0;
  std::string auth_token = default_auth_token;  ///< the initial token; see auth_token_path
  /// Where a token rotated with PATCH /config is kept (mode 0600), so it
  /// survives restarts; when the file exists it wins over auth_token.
  std::string auth_token_path = "vigil-auth-token";
  int max_connections_per_client = 32;  ///< per remote address; more are answered 503 at once
  std::size_t body_limit_bytes = 1 << 20;
  int read_timeout_ms = 5'000;
  int max_connections = 256;
  // Embedded simulator feed.
  double simulator_rate = 2'000;           ///< transactions per second, 0 = unthrottled
  std::uint64_t simulator_seed = 1;
  std::int64_t simulator_count = 0;        ///< 0 = unbounded
  std::int64_t simulator_users = 0;        ///< legitimate users; 0 = 10,000 (merchants: a tenth)
  bool simulator_labels = true;            ///< simulated labels reach state at their label time
  // Embedded feed from a labelled file instead of the simulator.
  std::string replay_path;                 ///< "" = the simulator
  double replay_speedup = 0;               ///< event-time seconds per wall second, 0 = as fast as it goes
};

/// True when this config makes the node a cluster member: brokers and
/// redis set, cluster_port not -1.
bool clustered(const runtime_config& c);

/// One refusal reason: the field and what is wrong.
struct config_error {
  std::string field;
  std::string reason;
};

/// Every problem of the whole config (empty = valid).
std::vector<config_error> validate(const runtime_config& c);

nlohmann::json to_json(const runtime_config& c);

/// Applies a partial JSON object on top of `base`. Unknown fields and wrong
/// types are errors; so is the result failing validate(). When
/// `live_only`, changing a restart-only field is an error too. On any error
/// `out` is left untouched.
std::vector<config_error> apply_patch(const runtime_config& base, const nlohmann::json& patch,
                                      bool live_only, runtime_config& out);

/// The errors as an error body's details: [{"field", "reason"}, ...].
nlohmann::json errors_json(const std::vector<config_error>& errors);

/// A rule list on its own (a JSON array, as the `rules` field takes it),
/// validated as PATCH /config validates it: the errors name `rules[i].field`.
/// On any error `out` is left untouched.
std::vector<config_error> rules_from_json(const nlohmann::json& list, std::vector<rules::rule_definition>& out);

/// Fields that need a restart to change.
const std::vector<std::string>& restart_only_fields();

/// to_json(c) without the restart-only fields: what a live change may set,
/// and what a cluster's nodes share.
nlohmann::json live_fields(const runtime_config& c);

} // namespace vigil::config
