// SharePicker: chooses which priority the uplink sends next so that the
// most important traffic goes first, yet no configured priority is starved.
//
// Critical always goes first. Among the others, a priority whose share of
// the recently sent bytes is below its configured minimum share goes
// before the rest (the largest shortfall first); otherwise the most
// important priority with something to send goes. "Recently" decays with a
// half-life of kShareHalfLifeMs, so an old burst stops counting.
//
// Threads: owned by the uplink thread; not thread-safe.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>

#include "foggate/base/clock.h"
#include "foggate/message/priority.h"

namespace foggate::routing {

class SharePicker {
 public:
  static constexpr double kShareHalfLifeMs = 10'000;
  using Shares = std::array<double, kPriorityCount>;  // 0..1 per priority

  SharePicker(const Shares& min_share, const Clock& clock)
      : min_share_(min_share), clock_(clock), decayed_at_ms_(clock.mono_ms()) {}

  // The minimum shares may change with a new uplink section; the byte
  // history carries over.
  void set_min_share(const Shares& min_share) { min_share_ = min_share; }

  // The priority to send next, among those for which has_pending(p) is
  // true; nullopt when none has anything.
  template <typename HasPending>
  std::optional<Priority> pick(HasPending&& has_pending) {
    const double total = decay();
    std::optional<Priority> first;
    std::optional<Priority> starved;
    double worst = 0;
    for (Priority p : kAllPriorities) {
      if (!has_pending(p)) continue;
      if (p == Priority::kCritical) return p;
      if (!first) {
        first = p;
        continue;
      }
      const double share = total > 0 ? recent_bytes_[index_of(p)] / total : 0;
      const double deficit = min_share_[index_of(p)] - share;
      if (deficit > worst) {
        worst = deficit;
        starved = p;
      }
    }
    return starved ? starved : first;
  }

  // Counts bytes sent for priority p towards its recent share.
  void record_sent(Priority p, uint64_t bytes) { recent_bytes_[index_of(p)] += static_cast<double>(bytes); }

 private:
  // Ages the history to now; returns the decayed total.
  double decay() {
    const int64_t now = clock_.mono_ms();
    const double factor = std::exp2(-static_cast<double>(now - decayed_at_ms_) / kShareHalfLifeMs);
    decayed_at_ms_ = now;
    double total = 0;
    for (auto& r : recent_bytes_) total += (r *= factor);
    return total;
  }

  Shares min_share_;
  const Clock& clock_;
  Shares recent_bytes_{};
  int64_t decayed_at_ms_;
};

}  // namespace foggate::routing
