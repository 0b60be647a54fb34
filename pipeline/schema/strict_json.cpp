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
    auto& f = frames_.back();
    f.key = k;
    if (!f.keys.insert(k).second)
      return refuse(path(), "duplicate key");
    return dom_.key(k);
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    return refuse("$", "malformed JSON at byte " + std::to_string(position));
  }

  strict_json_result result;

 private:
  struct frame {
    bool object = false;
    std::unordered_set<std::string> keys;
    std::string key;
    std::size_t index = 0;
  };

  bool open(bool object) {
    if (frames_.size() >= max_json_depth)
      return refuse(path(), "nested deeper than " + std::to_string(max_json_depth) + " levels");
    frames_.push_back({});
    frames_.back().object = object;
    return true;
  }
  bool close(bool ok) {
    frames_.pop_back();
    return value_done(ok);
  }
  bool value_done(bool ok) {
    if (!frames_.empty() && !frames_.back().object)
      ++frames_.back().index;
    return ok;
  }
  bool refuse(std::string field, std::string reason) {
    result.field = std::move(field);
    result.reason = std::move(reason);
    return false;
  }
  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
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
