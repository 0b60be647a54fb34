#include "pipeline/features/state_codec.h"

#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

namespace vigil::pipeline {
namespace {

// x86-64 and aarch64 Linux are little-endian; static_assert keeps it honest.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian only");

// From version 3 on a window or a recent set is written sparse: a mask of
// the slots that differ from an empty one, then those slots. Most of a
// user's 164 buckets stay empty for long (its labelled window, buckets of
// hours it was not active in): a simulated user of about 44 records takes
// half of the dense bytes (2,570 against 5,040).

// Empty means bit for bit as constructed (a sum of -0.0 is not empty).
bool zero_bits(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == 0;
}

bool empty_slot(const window_bucket& b) {
  const window_bucket empty{};
  return b.index == empty.index && b.count == 0 && b.marked == 0 && zero_bits(b.sum) && zero_bits(b.sum_sq);
}

bool empty_slot(const recent_entry& e) {
  const recent_entry empty{};
  return e.key == empty.key && e.count == empty.count && e.last_seen_ms == empty.last_seen_ms;
}

template <class Slots>
std::uint32_t used_slots(const Slots& slots) {
  static_assert(std::tuple_size<Slots>::value <= 32, "one 32-bit mask per window or set");
  std::uint32_t mask = 0;
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (!empty_slot(slots[i]))
      mask |= std::uint32_t{1} << i;
  return mask;
}

class byte_writer {
 public:
  explicit byte_writer(bool sparse) : sparse_(sparse) {}
  template <class T>
  void put(const T& v) {
    static_assert(std::is_arithmetic_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <int N, std::int64_t W>
  void put(const bucketed_window<N, W>& w) {
    put_slots(w.buckets());
  }
  template <int N>
  void put(const recent_set<N>& r) {
    put_slots(r.entries());
  }
  std::string take() { return std::move(out_); }

 private:
  void put_slot(const window_bucket& b) {
    put(b.index);
    put(b.count);
    put(b.marked);
    put(b.sum);
    put(b.sum_sq);
  }
  void put_slot(const recent_entry& e) {
    put(e.key);
    put(e.count);
    put(e.last_seen_ms);
  }
  // A window's buckets or a set's entries: the slots in use after their
  // mask when sparse, every slot when dense.
  template <class Slots>
  void put_slots(const Slots& slots) {
    const auto mask = sparse_ ? used_slots(slots) : ~std::uint32_t{0};
    if (sparse_)
      put(mask);
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (mask >> i & 1)
        put_slot(slots[i]);
  }

  bool sparse_;
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
    get_slots(w.buckets());
  }
  template <int N>
  void get(recent_set<N>& r) {
    get_slots(r.entries());
  }
  bool done() const { return ok_ && pos_ == in_.size(); }
  bool sparse = false;  ///< set once the version is read

 private:
  void get_slot(window_bucket& b) {
    get(b.index);
    get(b.count);
    get(b.marked);
    get(b.sum);
    get(b.sum_sq);
  }
  void get_slot(recent_entry& e) {
    get(e.key);
    get(e.count);
    get(e.last_seen_ms);
  }
  // Slots left out of the mask are empty.
  template <class Slots>
  void get_slots(Slots& slots) {
    const auto mask = get_mask(slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (mask >> i & 1)
        get_slot(slots[i]);
      else
        slots[i] = {};
    }
  }
  // The slots written (all of them when dense); a mask naming slots past
  // the last is refused, so every state has one encoding.
  std::uint32_t get_mask(std::size_t slots) {
    auto mask = ~std::uint32_t{0};
    if (!sparse)
      return mask;
    get(mask);
    if (slots < 32 && mask >> slots != 0)
      ok_ = false;
    return mask;
  }

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
std::string encode_with(const State& s, Visit visit, std::uint8_t version) {
  byte_writer w{version >= state_codec_version_sparse};
  w.put(version);
  auto io = [&w](const auto& field) { w.put(field); };
  visit(s, io, version);
  return w.take();
}

template <class State, class Visit>
std::optional<State> decode_with(std::string_view bytes, Visit visit) {
  byte_reader r{bytes};
  std::uint8_t version = 0;
  r.get(version);
  if (version < state_codec_version || version > state_codec_version_sparse)
    return std::nullopt;
  r.sparse = version >= state_codec_version_sparse;
  State s;
  auto io = [&r](auto& field) { r.get(field); };
  visit(s, io, version);
  if (!r.done())
    return std::nullopt;
  return s;
}

// The fields of each codec version, written and read by the same rule: from
// version 2 on, a user adds its labelled-records window and held labels, a
// merchant its held labels (version 3 has the same fields, sparse).
const auto user_fields = [](auto& st, auto& io, std::uint8_t version) {
  visit_user(st, io);
  if (version >= state_codec_version_pending_labels) {
    io(st.labels_30d);
    visit_pending_labels(st, io);
  }
};
const auto merchant_fields = [](auto& st, auto& io, std::uint8_t version) {
  visit_merchant(st, io);
  if (version >= state_codec_version_pending_labels)
    visit_pending_labels(st, io);
};

} // namespace

std::string encode(const user_state& s) {
  return encode_with(s, user_fields, state_codec_version_sparse);
}

std::string encode(const merchant_state& s) {
  return encode_with(s, merchant_fields, state_codec_version_sparse);
}

std::string encode_as(const user_state& s, std::uint8_t version) {
  if (version < state_codec_version || version > state_codec_version_sparse)
    throw std::invalid_argument("no state codec version " + std::to_string(version));
  return encode_with(s, user_fields, version);
}

std::string encode_as(const merchant_state& s, std::uint8_t version) {
  if (version < state_codec_version || version > state_codec_version_sparse)
    throw std::invalid_argument("no state codec version " + std::to_string(version));
  return encode_with(s, merchant_fields, version);
}

std::optional<user_state> decode_user_state(std::string_view bytes) {
  return decode_with<user_state>(bytes, user_fields);
}

std::optional<merchant_state> decode_merchant_state(std::string_view bytes) {
  return decode_with<merchant_state>(bytes, merchant_fields);
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
