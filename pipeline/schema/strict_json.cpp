#include "pipeline/schema/strict_json.h"

#include <nlohmann/json.hpp>

#include <unordered_set>
#include <vector>

namespace vigil::pipeline {
namespace {

using json = nlohmann::json;

// Builds the DOM through nlohmann's own SAX builder and refuses a key seen
// twice in one object. Tracks the path of the value being read, so the
// refusal names the field.
class strict_builder {
 public:
  explicit strict_builder(json& root) : dom_(root, false) {}

  bool null() { return value_done(dom_.null()); }
  bool boolean(bool v) { return value_done(dom_.boolean(v)); }
  bool number_integer(json::number_integer_t v) { return value_done(dom_.number_integer(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value_done(dom_.number_unsigned(v)); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return value_done(dom_.number_float(v, s));
  }
  bool string(json::string_t& v) { return value_done(dom_.string(v)); }
  bool binary(json::binary_t& v) { return value_done(dom_.binary(v)); }

  bool start_object(std::size_t n) { return open(true) && dom_.start_object(n); }
  bool start_array(std::size_t n) { return open(false) && dom_.start_array(n); }
  bool end_object() { return close(dom_.end_object()); }
  bool end_array() { return close(dom_.end_array()); }

  bool key(json::string_t& k) {
    auto& f = frames_[depth_ - 1];
    f.key = k;
    if (!f.add_key(k))
      return refuse(path(), "duplicate key");
    return dom_.key(k);
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    return refuse("$", "malformed JSON at byte " + std::to_string(position));
  }

  strict_json_result result;

 private:
  // One open object or array. Frames are reused from object to object, so
  // a request allocates them once; keys are checked by a scan while an
  // object is small and through a hash set once it is not, so a body of
  // 100,000 keys costs linear time, not quadratic.
  struct frame {
    static constexpr std::size_t scan_limit = 16;
    bool object = false;
    std::vector<std::string> keys;
    std::unordered_set<std::string> many;
    std::string key;
    std::size_t index = 0;

    void reset(bool is_object) {
      object = is_object;
      keys.clear();
      many.clear();
      index = 0;
    }
    /// False when `k` was already a key of this object.
    bool add_key(const std::string& k) {
      if (keys.size() < scan_limit) {
        for (const auto& seen : keys)
          if (seen == k)
            return false;
        keys.push_back(k);
        if (keys.size() == scan_limit)
          many.insert(keys.begin(), keys.end());
        return true;
      }
      return many.insert(k).second;
    }
  };

  bool open(bool object) {
    if (depth_ >= max_json_depth)
      return refuse(path(), "nested deeper than " + std::to_string(max_json_depth) + " levels");
    if (depth_ == frames_.size())
      frames_.emplace_back();
    frames_[depth_++].reset(object);
    return true;
  }
  bool close(bool ok) {
    --depth_;
    return value_done(ok);
  }
  bool value_done(bool ok) {
    if (depth_ > 0 && !frames_[depth_ - 1].object)
      ++frames_[depth_ - 1].index;
    return ok;
  }
  bool refuse(std::string field, std::string reason) {
    result.field = std::move(field);
    result.reason = std::move(reason);
    return false;
  }
  std::string path() const {
    std::string out;
    for (std::size_t d = 0; d < depth_; ++d) {
      const auto& f = frames_[d];
      if (f.object) {
        if (!out.empty())
          out += '.';
        out += f.key;
      } else {
        out += "[" + std::to_string(f.index) + "]";
      }
    }
    return out.empty() ? "$" : out;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<frame> frames_;
  std::size_t depth_ = 0;
};

} // namespace

strict_json_result parse_strict_json(std::string_view text, json& out) {
  json parsed;
  strict_builder builder{parsed};
  bool ok = json::sax_parse(text.begin(), text.end(), &builder);
  if (!ok || builder.result.field.size()) {
    out = nullptr;
    if (builder.result.field.empty())
      builder.result = {false, "$", "malformed JSON"};
    return builder.result;
  }
  out = std::move(parsed);
  builder.result.ok = true;
  return builder.result;
}

} // namespace vigil::pipeline
