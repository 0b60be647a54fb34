#include "pipeline/connectors/label_store.h"

#include "pipeline/connectors/kafka_config.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace vigil::connectors {
namespace {

class kafka_label_store final : public label_store {
 public:
  kafka_label_store(const std::string& brokers, std::string topic)
    : topic_(std::move(topic)), producer_(make_producer(brokers)) {}
  void append(const std::vector<pipeline::label_event>& labels) override {
    for (const auto& l : labels) {
      auto value = pipeline::to_json(l).dump();
      auto rc = producer_->produce(topic_, RdKafka::Topic::PARTITION_UA,
                                   RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                                   l.transaction_id.data(), l.transaction_id.size(), 0, nullptr);
      if (rc != RdKafka::ERR_NO_ERROR)
        throw std::runtime_error("produce label: " + RdKafka::err2str(rc));
    }
    if (producer_->flush(10'000) != RdKafka::ERR_NO_ERROR)
      throw std::runtime_error("labels not acknowledged by Kafka within 10 s");
  }

 private:
  std::string topic_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

} // namespace

file_label_store::file_label_store(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd_ < 0)
    throw std::runtime_error("cannot open labels file " + path);
}

void file_label_store::append(const std::vector<pipeline::label_event>& labels) {
  std::string text;
  for (const auto& l : labels)
    text += pipeline::to_json(l).dump() + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd_, text.data() + done, text.size() - done);
    if (n <= 0)
      throw std::runtime_error("writing labels to " + path_ + " failed");
    done += static_cast<std::size_t>(n);
  }
  ::fdatasync(fd_);
}

std::unique_ptr<label_store> make_kafka_label_store(const std::string& brokers,
                                                   const std::string& topic) {
  return std::make_unique<kafka_label_store>(brokers, topic);
}

} // namespace vigil::connectors
