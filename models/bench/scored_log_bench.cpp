// The scored log's cost per decision: the ring with its flat index
// (models/training/scored_log) against what it replaced, a map of entries
// and a queue of ids in arrival order (the baseline, kept here only), on
// the same decisions: first while the log fills, then once it is full and
// every record evicts the oldest. Medians of several runs, alternating.
//   vigil_scored_log_bench [DECISIONS] [CAPACITY] [RUNS]

#include "models/training/scored_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

using namespace vigil::models;

namespace {

/// The design before the ring: an unordered_map of entries by id and a
/// deque of ids for eviction.
class map_and_queue_log {
 public:
  explicit map_and_queue_log(std::size_t capacity) : capacity_(capacity) {}
  void record(const decision_record& d) {
    auto [it, inserted] = index_.try_emplace(d.transaction_id);
    const bool labelled = it->second.labelled;
    it->second = {d.features, d.merchant_id, d.user_id, d.event_time_ms, d.decision != decision_kind::approve,
                  labelled};
    if (!inserted)
      return;
    order_.push_back(d.transaction_id);
    while (order_.size() > capacity_) {
      index_.erase(order_.front());
      order_.pop_front();
    }
  }

 private:
  std::size_t capacity_;
  std::unordered_map<std::string, scored_entry> index_;
  std::deque<std::string> order_;
};

struct timing {
  double filling_ns = 0, full_ns = 0;
};

template <class Log>
timing run(const std::vector<decision_record>& decisions, std::size_t capacity) {
  Log log(capacity);
  const auto fill = std::min(capacity, decisions.size());
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < fill; ++i)
    log.record(decisions[i]);
  auto t1 = std::chrono::steady_clock::now();
  for (std::size_t i = fill; i < decisions.size(); ++i)
    log.record(decisions[i]);
  auto t2 = std::chrono::steady_clock::now();
  timing t;
  t.filling_ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(fill);
  if (decisions.size() > fill)
    t.full_ns = std::chrono::duration<double, std::nano>(t2 - t1).count() / static_cast<double>(decisions.size() - fill);
  return t;
}

struct ring_log : scored_log {
  explicit ring_log(std::size_t capacity) : scored_log(capacity, 1) {}
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1'000'000;
  const std::size_t capacity = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 500'000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  // Ids as the streaming bench's: a topic prefix, then the simulator's id.
  std::vector<decision_record> decisions(n);
  for (std::size_t i = 0; i < n; ++i) {
    decisions[i].transaction_id = "bench-tp-12345-0/tx-" + std::to_string(1'000'000'000 + i);
    decisions[i].user_id = "u-" + std::to_string(i % 100'000);
    decisions[i].merchant_id = "m-" + std::to_string(i % 10'000);
    decisions[i].features[0] = static_cast<float>(i);
  }
  std::vector<double> ring_fill, ring_full, base_fill, base_full;
  for (int r = 0; r < runs; ++r) {
    auto base = run<map_and_queue_log>(decisions, capacity);
    auto ring = run<ring_log>(decisions, capacity);
    base_fill.push_back(base.filling_ns);
    base_full.push_back(base.full_ns);
    ring_fill.push_back(ring.filling_ns);
    ring_full.push_back(ring.full_ns);
    std::printf("run %d: filling %.0f ns a decision (baseline %.0f), full %.0f ns (baseline %.0f)\n", r + 1,
                ring.filling_ns, base.filling_ns, ring.full_ns, base.full_ns);
  }
  std::printf("scored log, %zu decisions through %zu slots, median of %d runs: filling %.0f ns a decision "
              "(map and queue baseline %.0f, %.2fx), full %.0f ns (baseline %.0f, %.2fx)\n",
              n, capacity, runs, median(ring_fill), median(base_fill), median(base_fill) / median(ring_fill),
              median(ring_full), median(base_full), median(base_full) / median(ring_full));
}
