// WaitHistogram: how long tasks waited in a TaskQueue, from try_push to
// the moment a worker took them, in fixed millisecond buckets.
//
// Cheap on purpose: recording is one bucket search over 16 bounds and one
// relaxed atomic add. Counts only grow; a reader that wants a recent
// quantile keeps an earlier snapshot() and asks quantile_ms() about the
// difference (the gateway does that once per metrics interval).
//
// Threads: record() from the queue's popping worker (under the queue's
// mutex); snapshot() from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "foggate/base/counter.h"

namespace foggate::routing {

class WaitHistogram {
 public:
  // Inclusive upper bounds in ms; one more bucket holds everything above
  // the last. Waits are whole milliseconds of Clock::mono_ms, so bucket 0
  // ("0") means under a millisecond.
  static constexpr std::array<int64_t, 16> kBoundsMs = {0,   1,   2,    5,    10,   20,    50,     100,
                                                        200, 500, 1000, 2000, 5000, 10000, 30000, 60000};
  static constexpr std::size_t kBuckets = kBoundsMs.size() + 1;
  using Counts = std::array<uint64_t, kBuckets>;

  void record(int64_t wait_ms) {
    std::size_t i = 0;
    while (i < kBoundsMs.size() && wait_ms > kBoundsMs[i]) ++i;
    counts_[i].add();
  }

  Counts snapshot() const {
    Counts c{};
    for (std::size_t i = 0; i < kBuckets; ++i) c[i] = counts_[i].value();
    return c;
  }

  // The q-quantile (0 < q <= 1) of the waits counted in `now` but not in
  // `before`, as the upper bound of the bucket it falls in: a conservative
  // reading. Past the last bound it reads as that bound (60000: "at least a
  // minute"). 0 when nothing was counted in between.
  static int64_t quantile_ms(const Counts& now, const Counts& before, double q) {
    uint64_t total = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) total += now[i] - before[i];
    if (total == 0) return 0;
    // The rank of the sample that is the quantile, 1-based: ceil(q * total).
    const double want = q * static_cast<double>(total);
    uint64_t rank = static_cast<uint64_t>(want);
    if (static_cast<double>(rank) < want || rank == 0) ++rank;
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += now[i] - before[i];
      if (seen >= rank) return kBoundsMs[std::min(i, kBoundsMs.size() - 1)];
    }
    return kBoundsMs.back();
  }

 private:
  std::array<Counter, kBuckets> counts_;
};

}  // namespace foggate::routing
