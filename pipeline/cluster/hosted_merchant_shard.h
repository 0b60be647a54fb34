#pragma once
// One global merchant shard as its holder keeps it: the merchants, plus,
// per input partition, the highest offset applied (its high-water mark).
// Only the partition's owner sends that partition's records, in offset
// order, each batch after the last was answered, so a record at or below
// the mark was applied before: a replay (a restart from a checkpoint, a
// partition handed to another node, a retried request) changes nothing,
// and gets the features it was answered the first time: they are kept
// until the partition's checkpoint passes the record (at most
// max_answers_kept a partition; past that a replayed record reads the state
// as it is now). Plain C++ around pipeline::merchant_shard.

#include "pipeline/cluster/merchant_wire.h"
#include "pipeline/stream/keyed_shards.h"

#include <array>
#include <map>

namespace vigil::cluster {

/// Input partition -> highest offset applied.
using high_water_marks = std::map<std::int32_t, std::int64_t>;

class hosted_merchant_shard {
 public:
  hosted_merchant_shard(std::int64_t allowed_lateness_ms, pipeline::state_bounds bounds)
    : shard_(allowed_lateness_ms, bounds) {}

  struct outcome {
    /// merchant_feature_count per apply or read update, in request order.
    std::vector<float> features;
    /// What changed state, for the shard's log: applies past their mark,
    /// and labels.
    std::vector<merchant_update> changed;
  };
  /// Answers `updates` in order.
  outcome apply(std::vector<merchant_update> updates);
  /// Applies what a log entry recorded (no features).
  void replay(const std::vector<merchant_update>& logged);
  /// Starts from a checkpoint.
  void install(pipeline::merchant_map&& merchants, high_water_marks marks);

  /// Forgets the answers for records before each partition's checkpointed
  /// position (input partition -> next offset to read): never re-sent.
  void forget_answers_before(const std::map<std::int32_t, std::int64_t>& positions);
  /// The answers kept, encoded (for the shard's checkpoint), and back;
  /// false (nothing changed) when `bytes` is malformed.
  std::string encode_answers() const;
  bool install_answers(std::string_view bytes);
  std::size_t answers_kept() const;
  static constexpr std::size_t max_answers_kept = 50'000;

  /// As merchant_shard::copy_state.
  pipeline::store_snapshot copy_state(bool all) { return shard_.copy_state(all); }
  const pipeline::merchant_map& merchants() const { return shard_.merchants(); }
  const high_water_marks& marks() const { return marks_; }
  /// Records of a partition skipped at or below its mark.
  std::uint64_t replays_skipped() const { return skipped_; }
  void set_allowed_lateness(std::int64_t ms) { shard_.set_allowed_lateness(ms); }

 private:
  /// True when `u` is a record this shard already applied.
  bool applied_before(const merchant_update& u) const;
  void run(const merchant_update& u, bool update, std::vector<float>* features);
  /// The features first answered for a record applied before, else them as
  /// the state has them now.
  void answer_again(const merchant_update& u, std::vector<float>& features);
  using answer = std::array<float, merchant_feature_count>;
  pipeline::merchant_shard shard_;
  high_water_marks marks_;
  std::map<std::int32_t, std::map<std::int64_t, answer>> answers_;  ///< partition -> offset -> features
  pipeline::work_batch one_;  ///< reused: merchant_shard works on batches
  std::uint64_t skipped_ = 0;
};

/// "3=120,7=5" and back; nullopt on anything else.
std::string encode_marks(const high_water_marks& marks);
std::optional<high_water_marks> decode_marks(std::string_view text);

} // namespace vigil::cluster
