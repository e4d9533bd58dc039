// Counter: a monotonically increasing event count, readable from any thread.
// Every drop, shed, eviction, expiry and rejection in foggate increments one
// of these so nothing is lost silently; the metrics publisher reads them.
//
// Thread-safety: add() and value() may be called from any thread. Relaxed
// ordering: counts are statistics, not synchronisation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace foggate {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Gauge: a value that goes up and down (queue depth, devices tracked).
class Gauge {
 public:
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// One named sample for export: "messages_received_total" with labels
// {"source","mqtt"}. Components append their samples to a vector on demand.
struct MetricSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};
using MetricSink = std::vector<MetricSample>;

}  // namespace foggate
