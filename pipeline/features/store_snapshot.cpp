#include "pipeline/features/store_snapshot.h"

#include "pipeline/features/state_codec.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace vigil::pipeline {
namespace {

constexpr std::string_view magic = "VGSNAP1\n";

void put_u64(std::string& out, std::uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_bytes(std::string& out, std::string_view b) {
  put_u64(out, b.size());
  out.append(b.data(), b.size());
}

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}
  bool u64(std::uint64_t& v) {
    if (pos_ + sizeof v > in_.size())
      return false;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool bytes(std::string_view& b) {
    std::uint64_t n;
    if (!u64(n) || pos_ + n > in_.size())
      return false;
    b = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(std::string_view prefix) {
    if (in_.substr(pos_, prefix.size()) != prefix)
      return false;
    pos_ += prefix.size();
    return true;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

template <class Map, class Encode>
void put_section(std::string& out, const Map& m, Encode encode_state) {
  std::vector<const typename Map::value_type*> sorted;
  for (const auto& kv : m)
    sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a->first < b->first; });
  put_u64(out, sorted.size());
  for (auto* kv : sorted) {
    put_bytes(out, kv->first);
    put_bytes(out, encode_state(kv->second));
  }
}

template <class Map, class Decode>
bool get_section(reader& r, Map& m, Decode decode_state) {
  std::uint64_t n;
  if (!r.u64(n))
    return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view key, value;
    if (!r.bytes(key) || !r.bytes(value))
      return false;
    auto state = decode_state(value);
    if (!state)
      return false;
    m.emplace(std::string(key), std::move(*state));
  }
  return true;
}

} // namespace

std::string encode_snapshot(const store_snapshot& s) {
  std::string out(magic);
  put_u64(out, s.positions.size());
  for (const auto& [name, offset] : s.positions) {
    put_bytes(out, name);
    put_u64(out, static_cast<std::uint64_t>(offset));
  }
  put_section(out, s.users, [](const user_state& st) { return encode(st); });
  put_section(out, s.merchants, [](const merchant_state& st) { return encode(st); });
  return out;
}

std::optional<store_snapshot> decode_snapshot(std::string_view bytes) {
  reader r{bytes};
  store_snapshot s;
  std::uint64_t n;
  if (!r.skip(magic) || !r.u64(n))
    return std::nullopt;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    std::uint64_t offset;
    if (!r.bytes(name) || !r.u64(offset))
      return std::nullopt;
    s.positions[std::string(name)] = static_cast<std::int64_t>(offset);
  }
  if (!get_section(r, s.users, decode_user_state) ||
      !get_section(r, s.merchants, decode_merchant_state) || !r.at_end())
    return std::nullopt;
  return s;
}

} // namespace vigil::pipeline
