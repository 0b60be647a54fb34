#pragma once
// What the HTTP layer needs from a running node. Implemented by the node
// (actors/node), faked in HTTP tests. The asynchronous operations call
// their continuation exactly once, on any thread, and never block the
// caller; the synchronous ones are cheap (no I/O, no actor round trip) and
// may throw vigil_error.

#include "config/runtime_config.h"
#include "pipeline/errors/vigil_error.h"
#include "pipeline/schema/label_event.h"
#include "pipeline/schema/transaction.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vigil::http {

class expensive_lane;

/// What an asynchronous operation ends with: its value or the error.
template <class T>
using outcome = std::variant<T, vigil_error>;
using json_continuation = std::function<void(outcome<nlohmann::json>)>;
using text_continuation = std::function<void(outcome<std::string>)>;
/// One rendered JSON object per decision, in request order.
using decisions_continuation = std::function<void(outcome<std::vector<std::string>>)>;

struct predict_call {
  std::vector<pipeline::transaction> transactions;
  bool update = false;   ///< also fold each transaction into stream state
  bool explain = false;  ///< reasons for approved decisions too (flagged ones always get them)
  bool features = false; ///< the scored feature vector in each decision (about 1 kB more each)
  /// Finish on the expensive lane (explanations, rendering): set for
  /// requests admitted to it.
  bool expensive = false;
};

/// GET /review's filter (validated by the router). Empty texts do not filter.
struct review_query {
  std::string decision;  ///< "", "review", "decline"
  double min_score = 0, max_score = 1;
  std::string user_id, merchant_id, rule;
  std::string status;    ///< "", "open", "fraud", "legitimate"
  std::uint64_t before = 0;  ///< paging: only items numbered below (0 = newest)
  std::size_t limit = 50;    ///< 1..500
};

/// POST /backtest: a candidate against production over the decisions log.
struct backtest_call {
  int model = 0;                ///< the candidate's model version
  nlohmann::json rules;         ///< the candidate's rules (a JSON array; null = none)
  int production_model = 0;     ///< 0 = the model served now
  std::size_t rows = 100'000;   ///< the newest logged decisions replayed (1..1,000,000)
};

class node_api {
 public:
  virtual ~node_api() = default;
  /// Scores through the same shards and scorers as the stream. Each decision
  /// has its features and latency. Errors: pipeline_unavailable, overloaded.
  virtual void predict(predict_call call, decisions_continuation done) = 0;
  /// Stores labels durably, then joins them to the logged vectors:
  /// {"accepted", "joined", "unknown_transaction_ids"}. Errors:
  /// store_unavailable (nothing acknowledged), pipeline_unavailable.
  virtual void feedback(std::vector<pipeline::label_event> labels, json_continuation done) = 0;
  /// {"models": [...], "serving_version", "retraining": {...}}.
  virtual void models(json_continuation done) = 0;
  /// Moves a model to production and hot-swaps it into every scorer.
  /// Errors: not_found, invalid_field (the model fails its checks).
  virtual void promote(int version, json_continuation done) = 0;
  /// Starts a retraining run now; its status.
  virtual void retrain(json_continuation done) = 0;

  /// {"version": n, "config": {...}, "history": [...]}
  virtual nlohmann::json config() = 0;
  virtual std::vector<config::config_error> update_config(const nlohmann::json& patch) = 0;
  virtual std::vector<config::config_error> rollback_config(int version) = 0;
  /// {"ready": bool, "checks": {...}}: whether a model is served, and Kafka
  /// and Redis reachability as probed in the background (never on the
  /// caller's thread).
  virtual void readiness(json_continuation done) = 0;
  virtual std::string metrics_text() = 0;
  /// This node's view of its cluster: members, links, what each reads
  /// and serves; {"enabled": false, "reason"} for a node outside any.
  virtual void cluster(json_continuation done) {
    done(nlohmann::json{{"enabled", false}, {"reason", "not clustered"}});
  }
  /// The review queue: flagged decisions newest first, filtered
  /// (models::review_queue::list). Cheap: in memory.
  virtual nlohmann::json review_list(const review_query&) {
    return {{"items", nlohmann::json::array()}, {"matching", 0}, {"queued", 0}, {"capacity", 0},
            {"next_before", nullptr}};
  }
  /// One queued item in detail; nullopt when not (or no longer) queued.
  virtual std::optional<nlohmann::json> review_item(const std::string&) { return std::nullopt; }
  /// The last hour of headline figures (pipeline::metric_history).
  virtual nlohmann::json metrics_history() { return {{"interval_s", 10}, {"samples", nlohmann::json::array()}}; }
  /// A model's training artefact ("pr_curve.svg", "confusion.svg"), read
  /// off the I/O thread. Errors: not_found.
  virtual void model_artifact(int, const std::string& name, text_continuation done) {
    done(vigil_error(vigil_errc::not_found, "no artefact " + name));
  }
  /// Replays the decisions log through production and a candidate
  /// (models::backtest_decisions_log), one at a time, on its own thread.
  /// Errors: invalid_field (rules, versions), overloaded (one is running),
  /// store_unavailable (the log could not be read).
  virtual void backtest(backtest_call, json_continuation done) {
    done(vigil_error(vigil_errc::not_found, "this node keeps no decisions log"));
  }
  /// The bearer token mutating endpoints require.
  virtual std::string auth_token() = 0;
  /// How far ahead of this server's clock an event time may be.
  virtual std::int64_t max_event_time_skew_ms() { return 300'000; }
  /// Where expensive request work runs; nullptr = inline (tests).
  virtual expensive_lane* lane() { return nullptr; }
};

} // namespace vigil::http
