#include "models/serving/decision_json.h"
#include "pipeline/connectors/decision_publisher.h"

#include <stdexcept>

namespace vigil::connectors {

file_decision_publisher::file_decision_publisher(const std::string& path)
  : out_(path, std::ios::app) {
  if (!out_)
    throw std::runtime_error("cannot open decisions file " + path);
}

void file_decision_publisher::publish(std::uint64_t, const decision_batch& decisions) {
  std::string text;
  for (const auto& d : decisions) {
    text += render_decision(d, true);
    text += '\n';
  }
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void file_decision_publisher::seal(std::uint64_t batch_id) {
  out_.flush();
  if (!out_)
    throw std::runtime_error("writing the decisions file failed");
  delivered_.push_back(batch_id);
}

std::vector<std::uint64_t> file_decision_publisher::take_delivered() {
  return std::exchange(delivered_, {});
}

} // namespace vigil::connectors
