#include "pipeline/cluster/merchant_wire.h"

#include <cstring>

namespace vigil::cluster {
namespace {

constexpr std::uint8_t wire_version = 1;
constexpr std::size_t max_id_length = 1024;

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only (x86-64, arm64)
  out.append(bytes, sizeof(T));
}

void put_text(std::string& out, const std::string& text) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

struct reader {
  std::string_view in;
  bool ok = true;
  template <class T>
  T take() {
    T value{};
    if (in.size() < sizeof(T)) {
      ok = false;
      return value;
    }
    std::memcpy(&value, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return value;
  }
  std::string take_text() {
    auto n = take<std::uint32_t>();
    if (!ok || n > max_id_length || n > in.size()) {
      ok = false;
      return {};
    }
    std::string text(in.substr(0, n));
    in.remove_prefix(n);
    return text;
  }
};

} // namespace

merchant_update merchant_update_of(const pipeline::work_item& item, bool update) {
  merchant_update u;
  u.what = update ? merchant_update::kind::apply : merchant_update::kind::read;
  u.partition = item.position.partition;
  u.offset = item.position.offset;
  u.event_time_ms = item.tx.event_time_ms;
  u.amount = item.tx.amount;
  u.merchant_id = item.tx.merchant_id;
  u.user_id = item.tx.user_id;
  u.label = item.label;
  return u;
}

pipeline::work_item work_item_of(const merchant_update& u) {
  pipeline::work_item item;
  item.tx.merchant_id = u.merchant_id;
  item.tx.user_id = u.user_id;
  item.tx.amount = u.amount;
  item.tx.event_time_ms = u.event_time_ms;
  item.position = {u.partition, u.offset};
  item.label = u.label;
  return item;
}

std::string encode_merchant_updates(const std::vector<merchant_update>& updates) {
  std::string out;
  out.reserve(8 + updates.size() * 64);
  put<std::uint8_t>(out, wire_version);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(updates.size()));
  for (const auto& u : updates) {
    put<std::uint8_t>(out, static_cast<std::uint8_t>(u.what));
    put<std::int32_t>(out, u.partition);
    put<std::int64_t>(out, u.offset);
    put<std::int64_t>(out, u.event_time_ms);
    put<double>(out, u.amount);
    put_text(out, u.merchant_id);
    put_text(out, u.user_id);
    put<std::uint8_t>(out, u.label ? (u.label->is_fraud ? 2 : 1) : 0);
    if (u.label)
      put<std::int64_t>(out, u.label->known_at_ms);
  }
  return out;
}

std::optional<std::vector<merchant_update>> decode_merchant_updates(std::string_view bytes) {
  reader r{bytes};
  if (r.take<std::uint8_t>() != wire_version || !r.ok)
    return std::nullopt;
  auto n = r.take<std::uint32_t>();
  if (!r.ok || n > max_merchant_updates)
    return std::nullopt;
  std::vector<merchant_update> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n && r.ok; ++i) {
    merchant_update u;
    auto what = r.take<std::uint8_t>();
    if (what > static_cast<std::uint8_t>(merchant_update::kind::label))
      return std::nullopt;
    u.what = static_cast<merchant_update::kind>(what);
    u.partition = r.take<std::int32_t>();
    u.offset = r.take<std::int64_t>();
    u.event_time_ms = r.take<std::int64_t>();
    u.amount = r.take<double>();
    u.merchant_id = r.take_text();
    u.user_id = r.take_text();
    auto label = r.take<std::uint8_t>();
    if (label > 2)
      return std::nullopt;
    if (label != 0)
      u.label = pipeline::travelling_label{r.take<std::int64_t>(), label == 2};
    out.push_back(std::move(u));
  }
  if (!r.ok || !r.in.empty())
    return std::nullopt;
  return out;
}

void append_merchant_features(const pipeline::feature_vector& from, std::vector<float>& out) {
  out.insert(out.end(), from.begin() + first_merchant_feature,
             from.begin() + first_merchant_feature + merchant_feature_count);
}

void take_merchant_features(const float* at, pipeline::feature_vector& to) {
  std::copy(at, at + merchant_feature_count, to.begin() + first_merchant_feature);
}

} // namespace vigil::cluster
