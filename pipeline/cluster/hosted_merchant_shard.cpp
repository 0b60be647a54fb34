#include "pipeline/cluster/hosted_merchant_shard.h"

#include <charconv>
#include <cstring>

namespace vigil::cluster {

bool hosted_merchant_shard::applied_before(const merchant_update& u) const {
  if (u.what != merchant_update::kind::apply || u.partition == pipeline::no_partition)
    return false;
  auto it = marks_.find(u.partition);
  return it != marks_.end() && u.offset <= it->second;
}

void hosted_merchant_shard::run(const merchant_update& u, bool update, std::vector<float>* features) {
  if (one_.empty())
    one_.emplace_back();
  one_.front() = work_item_of(u);
  shard_.process(one_, update);
  const auto& filled = one_.front().features;
  if (features)
    append_merchant_features(filled, *features);
  if (update && u.partition != pipeline::no_partition) {
    auto& mark = marks_[u.partition];
    mark = std::max(mark, u.offset);
    auto& kept = answers_[u.partition];
    auto& a = kept[u.offset];
    std::copy(filled.begin() + first_merchant_feature, filled.begin() + first_merchant_feature + merchant_feature_count,
              a.begin());
    if (kept.size() > max_answers_kept)
      kept.erase(kept.begin());
  }
}

void hosted_merchant_shard::answer_again(const merchant_update& u, std::vector<float>& features) {
  auto p = answers_.find(u.partition);
  if (p != answers_.end())
    if (auto a = p->second.find(u.offset); a != p->second.end()) {
      features.insert(features.end(), a->second.begin(), a->second.end());
      return;
    }
  run(u, false, &features);
}

hosted_merchant_shard::outcome hosted_merchant_shard::apply(std::vector<merchant_update> updates) {
  outcome out;
  out.features.reserve(updates.size() * merchant_feature_count);
  for (auto& u : updates) {
    if (u.what == merchant_update::kind::label) {
      shard_.apply_label(u.merchant_id, u.event_time_ms, u.label && u.label->is_fraud);
      out.changed.push_back(std::move(u));
      continue;
    }
    if (u.what == merchant_update::kind::read) {
      run(u, false, &out.features);
      continue;
    }
    if (applied_before(u)) {
      ++skipped_;
      answer_again(u, out.features);
      continue;
    }
    run(u, true, &out.features);
    out.changed.push_back(std::move(u));
  }
  return out;
}

void hosted_merchant_shard::replay(const std::vector<merchant_update>& logged) {
  for (const auto& u : logged) {
    if (u.what == merchant_update::kind::label)
      shard_.apply_label(u.merchant_id, u.event_time_ms, u.label && u.label->is_fraud);
    else if (u.what == merchant_update::kind::apply && !applied_before(u))
      run(u, true, nullptr);
  }
}

void hosted_merchant_shard::install(pipeline::merchant_map&& merchants, high_water_marks marks) {
  shard_.install(std::move(merchants));
  marks_ = std::move(marks);
}

void hosted_merchant_shard::forget_answers_before(const std::map<std::int32_t, std::int64_t>& positions) {
  for (const auto& [partition, next] : positions) {
    auto it = answers_.find(partition);
    if (it == answers_.end())
      continue;
    it->second.erase(it->second.begin(), it->second.lower_bound(next));
    if (it->second.empty())
      answers_.erase(it);
  }
}

std::size_t hosted_merchant_shard::answers_kept() const {
  std::size_t n = 0;
  for (const auto& [partition, kept] : answers_)
    n += kept.size();
  return n;
}

// Layout: per partition with answers, int32 partition, uint32 count, then
// count x (int64 offset, merchant_feature_count float32), little-endian.
std::string hosted_merchant_shard::encode_answers() const {
  std::string out;
  auto put = [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  for (const auto& [partition, kept] : answers_) {
    auto count = static_cast<std::uint32_t>(kept.size());
    put(&partition, sizeof partition);
    put(&count, sizeof count);
    for (const auto& [offset, a] : kept) {
      put(&offset, sizeof offset);
      put(a.data(), sizeof(float) * a.size());
    }
  }
  return out;
}

bool hosted_merchant_shard::install_answers(std::string_view bytes) {
  constexpr std::size_t entry = sizeof(std::int64_t) + sizeof(float) * merchant_feature_count;
  std::map<std::int32_t, std::map<std::int64_t, answer>> decoded;
  while (!bytes.empty()) {
    std::int32_t partition = 0;
    std::uint32_t count = 0;
    if (bytes.size() < sizeof partition + sizeof count)
      return false;
    std::memcpy(&partition, bytes.data(), sizeof partition);
    std::memcpy(&count, bytes.data() + sizeof partition, sizeof count);
    bytes.remove_prefix(sizeof partition + sizeof count);
    if (partition < 0 || count > max_answers_kept || bytes.size() < count * entry)
      return false;
    auto& kept = decoded[partition];
    for (std::uint32_t i = 0; i < count; ++i, bytes.remove_prefix(entry)) {
      std::int64_t offset = 0;
      std::memcpy(&offset, bytes.data(), sizeof offset);
      std::memcpy(kept[offset].data(), bytes.data() + sizeof offset, sizeof(float) * merchant_feature_count);
    }
  }
  answers_ = std::move(decoded);
  return true;
}

std::string encode_marks(const high_water_marks& marks) {
  std::string out;
  for (const auto& [partition, offset] : marks) {
    if (!out.empty())
      out += ',';
    out += std::to_string(partition) + '=' + std::to_string(offset);
  }
  return out;
}

std::optional<high_water_marks> decode_marks(std::string_view text) {
  high_water_marks marks;
  while (!text.empty()) {
    auto end = text.find(',');
    auto entry = text.substr(0, end);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos)
      return std::nullopt;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    auto p = std::from_chars(entry.data(), entry.data() + eq, partition);
    auto o = std::from_chars(entry.data() + eq + 1, entry.data() + entry.size(), offset);
    if (p.ec != std::errc{} || p.ptr != entry.data() + eq || o.ec != std::errc{} ||
        o.ptr != entry.data() + entry.size() || partition < 0)
      return std::nullopt;
    marks[partition] = offset;
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
    if (text.empty())
      return std::nullopt;  // a trailing comma
  }
  return marks;
}

} // namespace vigil::cluster
