#include "actors/retrain/retrain_coordinator.h"

#include "pipeline/stream/keyed_shards.h"
#include "actors/pipeline/vigil_atoms.h"
#include "pipeline/connectors/scored_history.h"
#include "models/training/scored_log.h"
#include "config/runtime_config.h"
#include "models/drift/drift_policy.h"
#include "models/drift/drift_view.h"
#include "models/drift/label_quality.h"
#include "models/serving/scoring_model.h"
#include "models/training/champion_challenger.h"
#include "models/training/model_publication.h"
#include "pipeline/metrics/metrics_registry.h"

#include <caf/all.hpp>

#include <nlohmann/json.hpp>

#include <deque>
#include <iostream>
#include <set>
#include <unordered_set>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vigil::actors {
namespace {

constexpr std::size_t max_scored_entries = 500'000;
constexpr std::size_t max_labelled_rows = 1'000'000;
constexpr std::size_t min_labelled_rows = 500;
constexpr double recent_slice = 0.2;
/// A model drifting on is retrained at most once a day for it.
constexpr std::int64_t drift_retrain_cooldown_ms = 24 * 3600 * 1000;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Production's and the shadow's decisions scored against labels as they
/// arrive: the first label of each transaction both decided.
struct shadow_label_scores {
  static constexpr const char* variants[2] = {"production", "shadow"};
  static constexpr const char* outcomes[4] = {"tp", "fp", "fn", "tn"};
  pipeline::counter* counts[2][4] = {};
  pipeline::gauge *precision[2] = {}, *recall[2] = {};

  shadow_label_scores() {
    auto& m = pipeline::metrics();
    for (int v = 0; v < 2; ++v) {
      const std::string variant = std::string("variant=\"") + variants[v] + "\"";
      for (int o = 0; o < 4; ++o)
        counts[v][o] = &m.get_counter("vigil_shadow_labelled_total{" + variant + ",outcome=\"" + outcomes[o] + "\"}",
                                      "Labelled transactions the shadow also decided, by variant and outcome "
                                      "(flagged = review or decline)");
      precision[v] = &m.get_gauge("vigil_shadow_precision{" + variant + "}",
                                  "Precision of flagged decisions over the labelled transactions the shadow decided");
      recall[v] = &m.get_gauge("vigil_shadow_recall{" + variant + "}",
                               "Recall of flagged decisions over the labelled transactions the shadow decided");
    }
  }
  void add(bool production_flagged, bool shadow_flagged, bool fraud) {
    for (int v = 0; v < 2; ++v) {
      const bool flagged = v == 0 ? production_flagged : shadow_flagged;
      counts[v][flagged ? (fraud ? 0 : 1) : (fraud ? 2 : 3)]->add();
      const double tp = static_cast<double>(counts[v][0]->value()), fp = static_cast<double>(counts[v][1]->value()),
                   fn = static_cast<double>(counts[v][2]->value());
      precision[v]->set(tp + fp > 0 ? tp / (tp + fp) : 0);
      recall[v]->set(tp + fn > 0 ? tp / (tp + fn) : 0);
    }
  }
};

struct coordinator_state {
  std::unique_ptr<models::scored_log> log;
  shadow_label_scores shadow_scores;
  retrain_wiring wiring;
  bool running = false;
  std::string running_trigger;
  std::size_t labels_at_last_run = 0;
  int drift_retrained_version = 0;  ///< the model version drift last retrained for
  std::int64_t drift_retrained_ms = 0;
  std::int64_t last_schedule_check_ms = 0;
  std::deque<retrain_outcome> runs;  ///< the newest max_runs_kept, oldest first
  pipeline::counter* joined = nullptr;
  pipeline::counter* unknown = nullptr;
  pipeline::counter* repeated = nullptr;
  std::size_t restored_labels = 0;  ///< labelled rows rebuilt from stored labels at start
  /// Until the read-back lands, the ids joined live: the store may hold them
  /// too (stored before the read), and they must not join twice.
  bool history_pending = false;
  std::unordered_set<std::string> joined_while_pending;
};

constexpr std::size_t max_runs_kept = 20;

// Keeps a finished run for GET /models' champion/challenger history.
void finish_run(coordinator_state& s, retrain_outcome run) {
  run.finished_ms = wall_ms();
  s.runs.push_back(std::move(run));
  while (s.runs.size() > max_runs_kept)
    s.runs.pop_front();
}

using coordinator_ptr = retrain_coordinator_actor::stateful_pointer<coordinator_state>;

// Runs on its own thread: training blocks for seconds to minutes.
retrain_start start_run(coordinator_ptr self, const std::string& trigger, const std::string& detail = "");

// Publishes the served model's drift; retrains when it is over the
// configured threshold (once a day at most for one model version).
void check_drift(coordinator_ptr self, std::int64_t now_ms) {
  auto& s = self->state;
  auto report = s.wiring.drift->report(now_ms);
  models::publish_drift_metrics(report);
  if (s.wiring.label_quality)
    models::publish_label_quality_metrics(s.wiring.label_quality->weeks());
  const auto& cfg = *s.wiring.config;
  auto reason = models::drift_retrain_reason(report, cfg.drift_window, cfg.drift_retrain_psi, cfg.drift_min_rows);
  if (!reason || (s.drift_retrained_version == report.model_version &&
                  now_ms - s.drift_retrained_ms < drift_retrain_cooldown_ms))
    return;
  if (start_run(self, "drift", *reason).status == "started") {
    s.drift_retrained_version = report.model_version;
    s.drift_retrained_ms = now_ms;
  }
}

void retrain_worker(caf::blocking_actor* self, retrain_coordinator_actor coordinator,
                    std::shared_ptr<const pipeline::feature_table> rows, model_ptr champion,
                    config_ptr cfg) {
  auto report = std::make_shared<retrain_report>();
  try {
    models::training_options options;
    options.trials = 3;
    options.max_rounds = 200;
    auto result = models::challenge(*rows, champion ? &champion->forest : nullptr, options,
                                    recent_slice, cfg->promote_margin);
    report->trained = true;
    report->challenger_pr_auc = result.challenger_pr_auc;
    report->champion_pr_auc = result.champion_pr_auc;
    models::model_registry registry{cfg->registry_dir};
    report->version = models::register_trained_model(registry, result.challenger, result.training_rows);
    report->summary = result.reason;
    if (result.promote) {
      registry.set_stage(report->version, models::model_stage::production);
      report->model = models::load_scoring_model(registry, report->version);
      report->promoted = true;
    }
  } catch (const std::exception& e) {
    report->summary = std::string("retraining failed: ") + e.what();
  }
  self->send(coordinator, retrained_atom::value, retrain_report_ptr{report});
}

constexpr auto owner_timeout = std::chrono::seconds(10);
constexpr auto peer_label_timeout = std::chrono::seconds(5);

// `trigger` names the kind (a metric label); `detail`, when given, says why.
retrain_start start_run(coordinator_ptr self, const std::string& trigger, const std::string& detail) {
  auto& s = self->state;
  if (s.wiring.cluster)
    if (auto elsewhere = s.wiring.cluster->coordinator(); !elsewhere.empty())
      return {"not the coordinator", elsewhere, s.log->labelled(), 0};
  if (s.running)
    return {"already running", "", s.log->labelled(), 0};
  if (s.log->labelled() < min_labelled_rows)
    return {"not enough labels", "", s.log->labelled(), min_labelled_rows};
  s.running = true;
  s.running_trigger = detail.empty() ? trigger : trigger + ": " + detail;
  s.labels_at_last_run = s.log->labelled();
  auto rows = std::make_shared<const pipeline::feature_table>(s.log->labelled_rows());
  // The challenger faces the model served now.
  self->request(s.wiring.model_owner, owner_timeout, caf::get_atom::value)
    .then(
      [=](model_ptr champion) {
        self->spawn<caf::detached>(retrain_worker, caf::actor_cast<retrain_coordinator_actor>(self), rows,
                                   champion, self->state.wiring.config);
      },
      [=](caf::error& e) {
        self->state.running = false;
        finish_run(self->state, {"failed", "no champion to challenge: " + caf::to_string(e), 0, 0, 0,
                                 self->state.running_trigger});
      });
  pipeline::metrics().get_counter("vigil_retrain_started_total{trigger=\"" + trigger + "\"}",
                                  "Retraining runs started, by trigger").add();
  return {"started", trigger, rows->rows(), 0};
}

// Publishes the labelled rows; starts a run once enough new labels came.
void after_labels(coordinator_ptr self) {
  auto& s = self->state;
  pipeline::metrics().get_gauge("vigil_labelled_rows", "Labelled rows available for retraining")
    .set(static_cast<double>(s.log->labelled()));
  auto min_new = s.wiring.config->retrain_min_new_labels;
  if (min_new > 0 && s.log->labelled() - s.labels_at_last_run >= static_cast<std::size_t>(min_new))
    start_run(self, "label_count");
}

// Joins `labels` with the vectors this node scored: label weeks, user and
// merchant state (on the node reading the user's partition only, so a
// transaction scored twice, before and after its partition moved, counts
// once), and in a cluster the joined rows go to every peer.
label_receipt join_labels(coordinator_ptr self, const std::vector<pipeline::label_event>& labels) {
  auto& s = self->state;
  label_receipt receipt;
  receipt.accepted = labels.size();
  std::vector<shared_label_row> rows;
  for (const auto& l : labels) {
    auto entry = s.log->join(l);
    if (!entry) {
      receipt.unknown_transaction_ids.push_back(l.transaction_id);
      s.unknown->add();
      continue;
    }
    ++receipt.joined;
    s.joined->add();
    if (entry->labelled) {
      // Labelled before (a retried /feedback, or a correction): the
      // training row now holds this label; merchant state and the label
      // weeks counted the first one and must not count it twice.
      s.repeated->add();
      continue;
    }
    if (entry->shadow_flagged >= 0)
      s.shadow_scores.add(entry->flagged, entry->shadow_flagged == 1, l.is_fraud);
    // Every node counts each transaction's first label in its label weeks
    // once, here or from a peer's row (whichever joins first).
    if (s.wiring.label_quality)
      s.wiring.label_quality->add(l.label_time_ms, entry->flagged, l.is_fraud);
    if (s.wiring.cluster)
      rows.push_back({l.transaction_id, entry->merchant_id, entry->user_id, entry->event_time_ms, entry->flagged,
                      std::vector<float>(entry->features.begin(), entry->features.end()), l.is_fraud,
                      l.label_time_ms});
    if (s.wiring.cluster && !s.wiring.cluster->reads_user(entry->user_id))
      continue;
    if (s.history_pending)
      s.joined_while_pending.insert(l.transaction_id);
    const auto& shards = s.wiring.merchant_shards;
    self->send(shards[pipeline::shard_of(entry->merchant_id, static_cast<int>(shards.size()))],
               merchant_label_atom::value, entry->merchant_id, entry->event_time_ms, l.is_fraud);
    if (const auto& users = s.wiring.user_shards; !users.empty() && !entry->user_id.empty())
      self->send(users[pipeline::shard_of(entry->user_id, static_cast<int>(users.size()))], user_label_atom::value,
                 entry->user_id, entry->event_time_ms, l.is_fraud);
  }
  if (!rows.empty())
    for (const auto& [name, peer] : s.wiring.cluster->peers())
      self->send(peer, labelled_rows_atom::value, rows);
  after_labels(self);
  return receipt;
}

// One receipt for labels this node and its peers joined: a label is
// unknown only when no member scored its transaction (a peer that does not
// answer joined none).
caf::result<label_receipt> ask_peers(coordinator_ptr self, label_batch_ptr labels, label_receipt here,
                                     std::map<std::string, cluster_peer_actor> peers) {
  auto promise = self->make_response_promise<label_receipt>();
  auto unknown = std::make_shared<std::set<std::string>>(here.unknown_transaction_ids.begin(),
                                                         here.unknown_transaction_ids.end());
  auto remaining = std::make_shared<std::size_t>(peers.size());
  auto accepted = here.accepted;
  auto finish = [=]() mutable {
    if (--*remaining != 0)
      return;
    label_receipt merged;
    merged.accepted = accepted;
    for (const auto& l : *labels)
      if (unknown->count(l.transaction_id))
        merged.unknown_transaction_ids.push_back(l.transaction_id);
    merged.joined = accepted - merged.unknown_transaction_ids.size();
    promise.deliver(merged);
  };
  for (const auto& [name, peer] : peers)
    self->request(peer, peer_label_timeout, peer_labels_atom::value, *labels)
      .then(
        [=](const label_receipt& theirs) mutable {
          std::set<std::string> still(theirs.unknown_transaction_ids.begin(), theirs.unknown_transaction_ids.end());
          for (auto it = unknown->begin(); it != unknown->end();)
            it = still.count(*it) ? std::next(it) : unknown->erase(it);
          finish();
        },
        [=](caf::error&) mutable { finish(); });
  return promise;
}

retrain_coordinator_actor::behavior_type retrain_coordinator(coordinator_ptr self, retrain_wiring wiring) {
  auto& st = self->state;
  st.log = std::make_unique<models::scored_log>(max_scored_entries, max_labelled_rows);
  st.wiring = std::move(wiring);
  st.last_schedule_check_ms = wall_ms();
  st.history_pending = st.wiring.config->readback_decisions > 0;
  st.joined = &pipeline::metrics().get_counter("vigil_labels_total{joined=\"true\"}", "Feedback labels, by whether they joined a scored vector");
  st.unknown = &pipeline::metrics().get_counter("vigil_labels_total{joined=\"false\"}", "Feedback labels, by whether they joined a scored vector");
  st.repeated = &pipeline::metrics().get_counter(
    "vigil_labels_repeated_total", "Labels for a transaction labelled before: kept for training, not counted again");
  self->send(self, tick_atom::value);
  return {
    [=](decisions_atom, std::uint64_t, decision_batch_ptr decisions) {
      for (const auto& d : *decisions)  // a shadow decision follows production's in its batch
        d.shadow ? self->state.log->record_shadow(d) : self->state.log->record(d);
    },
    [=](label_atom, label_batch_ptr labels) -> caf::result<label_receipt> {
      auto receipt = join_labels(self, *labels);
      const auto& cluster = self->state.wiring.cluster;
      if (!cluster)
        return receipt;
      auto peers = cluster->peers();
      if (peers.empty())
        return receipt;
      return ask_peers(self, labels, std::move(receipt), std::move(peers));
    },
    [=](peer_labels_atom, label_batch_ptr labels) { return join_labels(self, *labels); },
    [=](labelled_rows_atom, shared_label_rows_ptr rows) {
      auto& s = self->state;
      for (const auto& row : *rows) {
        if (row.features.size() != static_cast<std::size_t>(pipeline::feature_count))
          continue;
        models::decision_record d;
        d.transaction_id = row.transaction_id;
        d.merchant_id = row.merchant_id;
        d.user_id = row.user_id;
        d.event_time_ms = row.event_time_ms;
        d.decision = row.flagged ? models::decision_kind::review : models::decision_kind::approve;
        std::copy(row.features.begin(), row.features.end(), d.features.begin());
        s.log->record(d);
        auto joined = s.log->join({row.transaction_id, row.is_fraud, "", row.label_time_ms});
        if (joined && !joined->labelled && s.wiring.label_quality)  // see join_labels
          s.wiring.label_quality->add(row.label_time_ms, row.flagged, row.is_fraud);
      }
      after_labels(self);
    },
    [=](peer_retrain_atom) { return start_run(self, "on_demand"); },
    [=](restored_labels_atom, label_batch_ptr labels) {
      auto& s = self->state;
      std::size_t joined = 0;
      for (const auto& l : *labels) {
        if (s.joined_while_pending.count(l.transaction_id) != 0)
          continue;
        auto entry = s.log->join(l);
        joined += entry ? 1 : 0;
        if (entry && !entry->labelled && s.wiring.label_quality)
          s.wiring.label_quality->add(l.label_time_ms, entry->flagged, l.is_fraud);
      }
      s.history_pending = false;
      s.joined_while_pending.clear();
      s.restored_labels += joined;
      // Old labels are not new: they do not count towards the next run.
      s.labels_at_last_run += joined;
      pipeline::metrics().get_counter("vigil_labels_restored_total",
                                      "Stored labels joined again to read-back decisions at start").add(joined);
      pipeline::metrics().get_gauge("vigil_labelled_rows", "Labelled rows available for retraining")
        .set(static_cast<double>(s.log->labelled()));
    },
    [=](retrain_atom) -> caf::result<retrain_start> {
      auto started = start_run(self, "on_demand");
      const auto& cluster = self->state.wiring.cluster;
      if (started.status != "not the coordinator" || !cluster)
        return started;
      // Passed on to the node that retrains.
      auto peers = cluster->peers();
      auto it = peers.find(started.trigger);
      if (it == peers.end())
        return retrain_start{"no coordinator reachable", started.trigger, started.labelled_rows, 0};
      return self->delegate(it->second, peer_retrain_atom::value);
    },
    [=](retrained_atom, retrain_report_ptr report) {
      auto& s = self->state;
      s.running = false;
      auto outcome = !report->trained ? "failed" : report->promoted ? "promoted" : "rejected";
      pipeline::metrics().get_counter(std::string("vigil_retrain_runs_total{outcome=\"") + outcome + "\"}",
                                      "Finished retraining runs, by outcome").add();
      pipeline::metrics().get_gauge("vigil_retrain_challenger_pr_auc", "Last challenger PR-AUC on the recent slice")
        .set(report->challenger_pr_auc);
      pipeline::metrics().get_gauge("vigil_retrain_champion_pr_auc", "Champion PR-AUC on the same slice")
        .set(report->champion_pr_auc);
      finish_run(s, {outcome, report->summary, report->version, report->challenger_pr_auc,
                     report->champion_pr_auc, s.running_trigger});
      if (report->promoted)
        self->request(s.wiring.model_owner, owner_timeout, model_atom::value, report->model)
          .then([](std::int32_t) {},
                [](caf::error& e) { std::cerr << "vigil: promoted model not served: " << caf::to_string(e) << "\n"; });
    },
    [=](status_atom) {
      auto& s = self->state;
      auto status = retrain_status{s.running, s.log->labelled(), s.log->scored(), s.restored_labels, 0,
                                   {s.runs.begin(), s.runs.end()}};
      auto promise = self->make_response_promise<retrain_status>();
      self->request(s.wiring.model_owner, owner_timeout, caf::get_atom::value)
        .then(
          [=](model_ptr champion) mutable {
            status.champion_version = champion->version;
            promise.deliver(status);
          },
          [=](caf::error& e) mutable { promise.deliver(std::move(e)); });
      return promise;
    },
    [=](config_atom, config_ptr cfg) { self->state.wiring.config = std::move(cfg); },
    [=](tick_atom) {
      auto& s = self->state;
      auto now = wall_ms();
      if (schedule_due(s.wiring.config->retrain_daily_at, s.last_schedule_check_ms, now))
        start_run(self, "schedule");
      s.last_schedule_check_ms = now;
      if (s.wiring.drift)
        check_drift(self, now);
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
  };
}

} // namespace

namespace {

using history_reader = std::function<connectors::scored_history(const std::atomic<bool>& cancel)>;

// Runs on its own thread (see restore_scored_history).
void read_back_history(caf::blocking_actor*, retrain_coordinator_actor coordinator,
                       std::shared_ptr<std::atomic<bool>> cancel,
                       history_reader read) {
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);  // this thread only
  connectors::scored_history history;
  try {
    history = read(*cancel);
  } catch (const std::exception& e) {
    if (*cancel)
      return;
    pipeline::metrics().get_counter("vigil_history_restore_failures_total",
                                    "Starts that could not read back earlier decisions and labels").add();
    std::cerr << "vigil: earlier decisions not read back (feedback for them reports unknown ids): "
              << e.what() << "\n";
    // Nothing is coming: the coordinator stops waiting for it.
    caf::anon_send(coordinator, restored_labels_atom::value,
                   label_batch_ptr{std::make_shared<const std::vector<pipeline::label_event>>()});
    return;
  }
  constexpr std::size_t chunk = 10'000;
  for (std::size_t at = 0; at < history.decisions.size(); at += chunk) {
    auto part = std::make_shared<decision_batch>(
      history.decisions.begin() + static_cast<std::ptrdiff_t>(at),
      history.decisions.begin() + static_cast<std::ptrdiff_t>(std::min(at + chunk, history.decisions.size())));
    caf::anon_send(coordinator, decisions_atom::value, std::uint64_t{0}, decision_batch_ptr{part});
  }
  pipeline::metrics().get_counter("vigil_decisions_restored_total",
                                  "Decisions read back at start, so labels for them still join")
    .add(history.decisions.size());
  caf::anon_send(coordinator, restored_labels_atom::value,
                 label_batch_ptr{std::make_shared<const std::vector<pipeline::label_event>>(
                   std::move(history.labels))});
  // One write: this thread's line must not land inside another's.
  std::cerr << ("vigil: read back " + std::to_string(history.decisions.size()) + " decisions and their labels" +
                (history.malformed ? " (" + std::to_string(history.malformed) + " malformed records skipped)" : "") +
                "\n");
}

} // namespace

std::shared_ptr<std::atomic<bool>> restore_scored_history(caf::actor_system& sys,
                                                          retrain_coordinator_actor coordinator,
                                                          history_reader read) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  // Arguments, not captures: CAF 0.17 dereferences a null argument tuple for
  // a function actor spawned without any (UBSan reports it).
  sys.spawn<caf::detached>(read_back_history, std::move(coordinator), cancel, std::move(read));
  return cancel;
}

bool schedule_due(const std::string& hh_mm, std::int64_t last_check_ms, std::int64_t now_ms) {
  if (hh_mm.size() != 5)
    return false;
  constexpr std::int64_t day = 86'400'000;
  std::int64_t offset = (std::stoll(hh_mm.substr(0, 2)) * 60 + std::stoll(hh_mm.substr(3, 2))) * 60'000;
  // The most recent scheduled instant at or before now.
  std::int64_t instant = (now_ms - offset) / day * day + offset;
  if (instant > now_ms)
    instant -= day;
  return instant > last_check_ms && instant <= now_ms;
}

retrain_coordinator_actor spawn_retrain_coordinator(caf::actor_system& sys, retrain_wiring wiring) {
  return sys.spawn(retrain_coordinator, std::move(wiring));
}

} // namespace vigil::actors
