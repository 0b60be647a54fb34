#include "http/expensive_lane.h"

#include <atomic>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vigil::http {

expensive_lane::expensive_lane(int threads, int capacity, int nice_increment)
  : capacity_(capacity), admitted_(std::make_shared<std::atomic<int>>(0)) {
  for (int i = 0; i < std::max(1, threads); ++i)
    threads_.emplace_back([this, nice_increment] { run(nice_increment); });
}

expensive_lane::~expensive_lane() {
  stop();
}

void expensive_lane::stop() {
  std::deque<std::function<void()>> dropped;  // destroyed outside the lock
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(tasks_);
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

expensive_lane::ticket expensive_lane::admit() {
  auto count = admitted_;
  if (count->fetch_add(1) >= capacity_) {
    count->fetch_sub(1);
    return nullptr;
  }
  // The deleter holds the counter, so a ticket outliving the lane is safe.
  return ticket(static_cast<void*>(count.get()), [count](void*) { count->fetch_sub(1); });
}

void expensive_lane::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_)
      return;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

int expensive_lane::admitted() const {
  return admitted_->load();
}

void expensive_lane::run(int nice_increment) {
  if (nice_increment > 0) {
    auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    ::setpriority(PRIO_PROCESS, tid, ::getpriority(PRIO_PROCESS, tid) + nice_increment);
  }
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_)
        return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

} // namespace vigil::http
