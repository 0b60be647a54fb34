#pragma once
// The newest immutable snapshot of something one actor keeps up to date and
// other threads read (HTTP threads, other actors): publish swaps it whole,
// current hands out a reference that stays valid. Empty until the first
// publish. Plain C++.

#include <memory>
#include <mutex>

namespace vigil::cluster {

template <class T>
class snapshot_board {
 public:
  void publish(std::shared_ptr<const T> next) {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(next);
  }
  std::shared_ptr<const T> current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

} // namespace vigil::cluster
