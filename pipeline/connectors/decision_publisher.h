#pragma once
// Where decisions go: a JSON-lines file (embedded) or Kafka topics.

#include "models/serving/decision_json.h"
#include "models/serving/decision_record.h"

#include <fstream>
#include <string>
#include <vector>

#include <sys/types.h>

namespace vigil::connectors {

using models::decision_batch;
using models::decision_record;
using models::render_decision;

class decision_publisher {
 public:
  virtual ~decision_publisher() = default;
  /// Hands over decisions of one part of batch `batch_id`.
  virtual void publish(std::uint64_t batch_id, const decision_batch& decisions) = 0;
  /// No more parts of `batch_id` will come.
  virtual void seal(std::uint64_t batch_id) = 0;
  /// Batches whose every decision is durably delivered, since the last call.
  virtual std::vector<std::uint64_t> take_delivered() = 0;
};

/// Where a decisions file's shadow decisions go: "-shadow" before the
/// extension ("decisions.jsonl" -> "decisions-shadow.jsonl").
std::string shadow_decisions_path(const std::string& path);

/// Appends one JSON object per decision (with the scored features) to a file.
/// Shadow decisions go to shadow_decisions_path(path) instead, opened at the
/// first one, written at each seal, best effort: a failed shadow write is
/// counted (vigil_shadow_write_failures_total) and dropped, never waited for.
/// Delivery = written to the file (write(2) on an O_APPEND descriptor).
/// A write that fails (a full disk) is neither lost nor torn into a second
/// copy: the bytes not yet written stay queued with their batches, which
/// are not delivered, so credit runs out and the source pauses; every seal
/// and take_delivered() retries from the first unwritten byte, and the
/// batches are delivered once it succeeds. vigil_output_write_failures_total
/// counts failures; vigil_output_write_failing is 1 while bytes wait.
class file_decision_publisher final : public decision_publisher {
 public:
  explicit file_decision_publisher(const std::string& path);
  ~file_decision_publisher() override;
  void publish(std::uint64_t batch_id, const decision_batch& decisions) override;
  void seal(std::uint64_t batch_id) override;
  std::vector<std::uint64_t> take_delivered() override;

 private:
  /// Writes what is queued; returns false (and keeps the rest) on failure.
  bool write_queued();

  std::string path_;
  int fd_ = -1;
  std::string open_text_;  ///< decisions of batches not sealed yet
  std::string queued_;     ///< sealed, not yet written
  /// Sealed batches, in order, with the end offset of their text in queued_.
  std::vector<std::pair<std::uint64_t, std::size_t>> queued_batches_;
  std::vector<std::uint64_t> delivered_;
  bool failing_ = false;
  off_t whole_size_ = 0;   ///< the file's size: whole lines only
  int shadow_fd_ = -1;
  std::string shadow_text_;  ///< shadow decisions since the last seal
};

} // namespace vigil::connectors
