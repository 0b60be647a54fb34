#include "pipeline/features/state_codec.h"

#include <cstring>
#include <type_traits>

namespace vigil::pipeline {
namespace {

// x86-64 and aarch64 Linux are little-endian; static_assert keeps it honest.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian only");

class byte_writer {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_arithmetic_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <int N, std::int64_t W>
  void put(const bucketed_window<N, W>& w) {
    for (const auto& b : w.buckets()) {
      put(b.index);
      put(b.count);
      put(b.marked);
      put(b.sum);
      put(b.sum_sq);
    }
  }
  template <int N>
  void put(const recent_set<N>& r) {
    for (const auto& e : r.entries()) {
      put(e.key);
      put(e.count);
      put(e.last_seen_ms);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class byte_reader {
 public:
  explicit byte_reader(std::string_view in) : in_(in) {}
  template <class T>
  void get(T& v) {
    static_assert(std::is_arithmetic_v<T>);
    if (pos_ + sizeof(T) > in_.size()) {
      ok_ = false;
      return;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
  }
  template <int N, std::int64_t W>
  void get(bucketed_window<N, W>& w) {
    for (auto& b : w.buckets()) {
      get(b.index);
      get(b.count);
      get(b.marked);
      get(b.sum);
      get(b.sum_sq);
    }
  }
  template <int N>
  void get(recent_set<N>& r) {
    for (auto& e : r.entries()) {
      get(e.key);
      get(e.count);
      get(e.last_seen_ms);
    }
  }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

template <class State, class Io>
void visit_user(State& s, Io& io) {
  io(s.count_10m); io(s.amounts_1h); io(s.amounts_24h); io(s.amounts_7d);
  io(s.amounts_30d); io(s.merchants); io(s.countries); io(s.devices);
  io(s.last_time_ms); io(s.last_latitude); io(s.last_longitude);
  io(s.max_event_time_ms); io(s.records); io(s.late_records);
}

template <class State, class Io>
void visit_merchant(State& s, Io& io) {
  io(s.amounts_1h); io(s.amounts_24h); io(s.amounts_7d); io(s.labels_30d);
  for (auto& u : s.recent_users)
    io(u);
  io(s.recent_users_next); io(s.recent_users_size);
  io(s.max_event_time_ms); io(s.records); io(s.late_records);
}

/// Version 2's tail: the labels a merchant holds back.
template <class State, class Io>
void visit_pending_labels(State& s, Io& io) {
  io(s.labels_taken_early);
  std::uint64_t n = s.pending_labels.size();
  io(n);
  if constexpr (!std::is_const_v<State>) {
    if (n > max_pending_labels)
      n = 0;  // corrupt: the reader fails on the bytes left over
    s.pending_labels.resize(n);
  }
  for (auto& l : s.pending_labels) {
    io(l.known_at_ms);
    io(l.event_time_ms);
    io(l.is_fraud);
  }
}

template <class State, class Visit>
std::string encode_with(const State& s, Visit visit, std::uint8_t version = state_codec_version) {
  byte_writer w;
  w.put(version);
  auto io = [&w](const auto& field) { w.put(field); };
  visit(s, io, version);
  return w.take();
}

template <class State, class Visit>
std::optional<State> decode_with(std::string_view bytes, Visit visit, std::uint8_t newest = state_codec_version) {
  byte_reader r{bytes};
  std::uint8_t version = 0;
  r.get(version);
  if (version < state_codec_version || version > newest)
    return std::nullopt;
  State s;
  auto io = [&r](auto& field) { r.get(field); };
  visit(s, io, version);
  if (!r.done())
    return std::nullopt;
  return s;
}

// The fields of each codec version, written and read by the same rule: from
// version 2 on, a user adds its labelled-records window and held labels, a
// merchant its held labels.
const auto user_fields = [](auto& st, auto& io, std::uint8_t version) {
  visit_user(st, io);
  if (version == state_codec_version_pending_labels) {
    io(st.labels_30d);
    visit_pending_labels(st, io);
  }
};
const auto merchant_fields = [](auto& st, auto& io, std::uint8_t version) {
  visit_merchant(st, io);
  if (version == state_codec_version_pending_labels)
    visit_pending_labels(st, io);
};

} // namespace

std::string encode(const user_state& s) {
  return encode_with(s, user_fields, state_codec_version_pending_labels);
}

std::string encode(const merchant_state& s) {
  auto version = s.pending_labels.empty() && s.labels_taken_early == 0 ? state_codec_version
                                                                         : state_codec_version_pending_labels;
  return encode_with(s, merchant_fields, version);
}

std::optional<user_state> decode_user_state(std::string_view bytes) {
  return decode_with<user_state>(bytes, user_fields, state_codec_version_pending_labels);
}

std::optional<merchant_state> decode_merchant_state(std::string_view bytes) {
  return decode_with<merchant_state>(bytes, merchant_fields, state_codec_version_pending_labels);
}

// Equality is field-wise through the same visitor, so a new field cannot be
// serialised but forgotten in the comparison (or the other way round).
bool user_state::operator==(const user_state& o) const {
  return encode(*this) == encode(o);
}

bool merchant_state::operator==(const merchant_state& o) const {
  return encode(*this) == encode(o);
}

} // namespace vigil::pipeline
