#include "pipeline/features/store_snapshot.h"

#include "pipeline/features/state_codec.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace vigil::pipeline {
namespace {

constexpr std::string_view magic = "VGSNAP2\n";

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

std::int32_t store_snapshot::partition_of_user(const std::string& user_id) const {
  auto it = user_partitions.find(user_id);
  return it == user_partitions.end() ? no_partition : it->second;
}

namespace {

// Moves every entry of `from` into `into`, `from`'s winning where both hold
// a key. The entries' nodes are relinked, not copied: a checkpoint's copy of
// every user is hundreds of MB, and the stream waits while it is gathered.
template <class Map>
void take_entries(Map& into, Map&& from) {
  if (into.empty()) {
    into = std::move(from);
  } else {
    into.merge(from);  // what `into` lacked; `from` keeps the rest
    for (auto& [key, value] : from)
      into[key] = std::move(value);
  }
  from.clear();
}

} // namespace

void store_snapshot::absorb(store_snapshot&& other) {
  for (const auto& [partition, offset] : other.positions)
    positions[partition] = offset;
  if (!removed_users.empty())
    for (const auto& [id, state] : other.users)
      removed_users.erase(id);
  take_entries(users, std::move(other.users));
  take_entries(user_partitions, std::move(other.user_partitions));
  if (!removed_merchants.empty())
    for (const auto& [id, state] : other.merchants)
      removed_merchants.erase(id);
  take_entries(merchants, std::move(other.merchants));
  for (const auto& [id, partition] : other.removed_users) {
    users.erase(id);
    user_partitions.erase(id);
    removed_users[id] = partition;
  }
  for (const auto& id : other.removed_merchants) {
    merchants.erase(id);
    removed_merchants.insert(id);
  }
}

store_snapshot partition_part(const store_snapshot& s, std::int32_t partition) {
  store_snapshot out;
  if (auto it = s.positions.find(partition); it != s.positions.end())
    out.positions.insert(*it);
  for (const auto& [id, owner] : s.user_partitions) {
    if (owner != partition)
      continue;
    if (auto state = s.users.find(id); state != s.users.end()) {
      out.users.emplace(id, state->second);
      out.user_partitions.emplace(id, owner);
    }
  }
  return out;
}

store_snapshot node_part(const store_snapshot& s) {
  store_snapshot out;
  out.merchants = s.merchants;
  for (const auto& [id, state] : s.users)
    if (s.partition_of_user(id) == no_partition)
      out.users.emplace(id, state);
  return out;
}

std::string encode_snapshot(const store_snapshot& s) {
  std::string out(magic);
  put_u64(out, s.positions.size());
  for (const auto& [partition, offset] : s.positions) {
    put_u64(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(partition)));
    put_u64(out, static_cast<std::uint64_t>(offset));
  }
  put_section(out, s.users, [](const user_state& st) { return encode(st); });
  put_section(out, s.user_partitions, [](std::int32_t partition) {
    return std::to_string(partition);
  });
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
    std::uint64_t partition, offset;
    if (!r.u64(partition) || !r.u64(offset))
      return std::nullopt;
    s.positions[static_cast<std::int32_t>(static_cast<std::int64_t>(partition))] =
      static_cast<std::int64_t>(offset);
  }
  auto decode_partition = [](std::string_view text) -> std::optional<std::int32_t> {
    std::int32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
      return std::nullopt;
    return value;
  };
  if (!get_section(r, s.users, decode_user_state) ||
      !get_section(r, s.user_partitions, decode_partition) ||
      !get_section(r, s.merchants, decode_merchant_state) || !r.at_end())
    return std::nullopt;
  return s;
}

} // namespace vigil::pipeline
