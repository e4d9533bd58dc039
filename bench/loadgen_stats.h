// The load generator's bookkeeping: when each (device, seq) was sent, what
// arrived in which order, and latency percentiles.
//
// SendTable is written by the publisher threads and read by the receiving
// client's Paho callback thread, lock-free. SeqTracker and LatencySet
// belong to whoever holds the receiver's lock.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace foggate::bench {

// Send time (steady clock, µs) of every message, indexed by device and seq,
// so that a reading or an alert that names (device, seq) maps back to the
// moment it was handed to the client library.
class SendTable {
 public:
  SendTable(uint32_t devices, uint32_t max_seq)
      : devices_(devices), max_seq_(max_seq),
        t_(std::make_unique<std::atomic<int64_t>[]>(std::size_t{devices} * max_seq)) {}

  void put(uint32_t device, uint32_t seq, int64_t t_us) {
    if (device < devices_ && seq < max_seq_) t_[index(device, seq)].store(t_us, std::memory_order_release);
  }
  // 0 when unknown (never sent, or beyond the table).
  int64_t get(uint32_t device, uint32_t seq) const {
    if (device >= devices_ || seq >= max_seq_) return 0;
    return t_[index(device, seq)].load(std::memory_order_acquire);
  }

 private:
  std::size_t index(uint32_t device, uint32_t seq) const { return std::size_t{device} * max_seq_ + seq; }
  uint32_t devices_, max_seq_;
  std::unique_ptr<std::atomic<int64_t>[]> t_;
};

// Per-device order of arrival: a seq past the next expected one counts the
// skipped ones as gaps; a seq at or below the last one is a duplicate or
// reordered. What never arrives at the tail of a stream is not a gap; the
// caller counts it as sent - received.
class SeqTracker {
 public:
  explicit SeqTracker(uint32_t devices) : last_(devices, -1) {}

  void see(uint32_t device, uint32_t seq) {
    if (device >= last_.size()) return;
    const int64_t s = seq;
    if (s <= last_[device]) {
      ++out_of_order_;
      return;
    }
    gaps_ += static_cast<uint64_t>(s - last_[device] - 1);
    last_[device] = s;
  }
  uint64_t gaps() const { return gaps_; }
  uint64_t out_of_order() const { return out_of_order_; }

 private:
  std::vector<int64_t> last_;
  uint64_t gaps_ = 0;
  uint64_t out_of_order_ = 0;
};

// Latency samples in µs; percentiles by nearest rank over all samples (no
// histogram buckets: a few hundred thousand samples sort in milliseconds).
class LatencySet {
 public:
  void add(int64_t us) {
    v_.push_back(us);
    sorted_ = false;
  }
  std::size_t size() const { return v_.size(); }
  // p in [0, 1]; -1 when empty.
  int64_t percentile(double p) {
    if (v_.empty()) return -1;
    if (!sorted_) {
      std::sort(v_.begin(), v_.end());
      sorted_ = true;
    }
    const double rank = std::ceil(p * static_cast<double>(v_.size()));
    const std::size_t i = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
    return v_[std::min(i, v_.size() - 1)];
  }

 private:
  std::vector<int64_t> v_;
  bool sorted_ = false;
};

}  // namespace foggate::bench
