#include "pipeline/connectors/scored_history.h"

#include "pipeline/connectors/kafka_topic_tail.h"
#include "models/serving/decision_json.h"

#include <algorithm>
#include <fstream>

namespace vigil::connectors {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

scored_history parse_history(const std::vector<std::string>& decisions,
                             const std::vector<std::string>& labels, const std::atomic<bool>& cancel) {
  scored_history h;
  for (const auto& text : decisions) {
    if (cancel)
      throw history_cancelled();
    auto d = decision_from_json(nlohmann::json::parse(text, nullptr, false));
    if (d)
      h.decisions.push_back(std::move(*d));
    else
      ++h.malformed;
  }
  auto now = wall_ms();
  for (const auto& text : labels) {
    auto parsed = pipeline::label_from_json(nlohmann::json::parse(text, nullptr, false), now);
    if (parsed.value)
      h.labels.push_back(std::move(*parsed.value));
    else
      ++h.malformed;
  }
  return h;
}

} // namespace

std::vector<std::string> last_lines(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || n == 0)
    return {};
  // Find where the tail starts, reading backwards in blocks until n + 1
  // line breaks (or the start) are passed, then read it in one piece
  // (prepending block by block would copy the tail once per block).
  constexpr std::streamoff block = 1 << 16;
  std::streamoff end = in.tellg(), from = end;
  std::string chunk;
  std::size_t breaks = 0;
  while (from > 0 && breaks <= n) {
    auto size = std::min(block, from);
    from -= size;
    chunk.resize(static_cast<std::size_t>(size));
    in.seekg(from);
    in.read(chunk.data(), size);
    breaks += static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
  }
  std::string tail(static_cast<std::size_t>(end - from), '\0');
  in.seekg(from);
  in.read(tail.data(), end - from);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < tail.size()) {
    auto stop = tail.find('\n', start);
    if (stop == std::string::npos)
      stop = tail.size();
    if (stop > start)
      lines.push_back(tail.substr(start, stop - start));
    start = stop + 1;
  }
  // A partial first line (cut by the block boundary) is dropped with the rest.
  if (lines.size() > n)
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  return lines;
}

scored_history read_file_history(const std::string& decisions_path, const std::string& labels_path,
                                 std::size_t max_decisions, std::size_t max_labels,
                                 const std::atomic<bool>& cancel) {
  return parse_history(last_lines(decisions_path, max_decisions), last_lines(labels_path, max_labels), cancel);
}

scored_history read_kafka_history(const std::string& brokers, const std::string& predictions_topic,
                                  const std::string& labels_topic, std::size_t max_decisions,
                                  std::size_t max_labels, std::chrono::milliseconds timeout,
                                  const std::atomic<bool>& cancel) {
  auto decisions = read_topic_tail(brokers, predictions_topic, max_decisions, timeout, &cancel);
  auto labels = read_topic_tail(brokers, labels_topic, max_labels, timeout, &cancel);
  return parse_history(decisions, labels, cancel);
}

} // namespace vigil::connectors
