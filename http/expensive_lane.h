#pragma once
// Where expensive request work runs: parsing large bodies, exact TreeSHAP
// explanations, rendering large responses, durable label writes. Its own
// threads run at a lower CPU priority than the I/O threads, so /health,
// /ready and /metrics (answered on the I/O threads) never wait behind it,
// and admission is bounded: at most `capacity` requests hold a ticket at
// once; the next is refused (503 overloaded) instead of queued.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::http {

class expensive_lane {
 public:
  /// `nice_increment` is added to each lane thread's nice value (Linux
  /// schedules threads individually), 0 = same priority as the caller.
  expensive_lane(int threads, int capacity, int nice_increment);
  /// Stops the threads (waiting for running tasks); tasks not started are
  /// dropped, and later posts too. Idempotent.
  void stop();
  ~expensive_lane();
  expensive_lane(const expensive_lane&) = delete;
  expensive_lane& operator=(const expensive_lane&) = delete;

  /// Held by an admitted request until it is answered (release by
  /// destroying every copy).
  using ticket = std::shared_ptr<void>;
  /// A ticket while fewer than `capacity` are held, else nullptr.
  ticket admit();
  /// Runs `task` on a lane thread, in posting order per thread. Only for
  /// requests that hold a ticket, which is what bounds the queue.
  void post(std::function<void()> task);
  /// Tickets held now.
  int admitted() const;
  int capacity() const { return capacity_; }

 private:
  void run(int nice_increment);

  const int capacity_;
  std::shared_ptr<std::atomic<int>> admitted_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace vigil::http
