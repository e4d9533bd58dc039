// DegradePolicy: decides, per priority, whether the uplink forwards at full
// resolution or folds the traffic into summaries (routing::Summarizer),
// because the uplink cannot keep up (issue #15).
//
// Only normal and low can degrade; critical and high never do. Priority p
// engages when either
//   - its backlog would take longer than horizon_s to drain at the budget
//     (uplink.bandwidth.bytes_per_s): the spooled bytes of p and of every
//     more important priority (they are sent first) over the budget; not
//     used when the budget is unlimited; or
//   - the spool as a whole is fuller than fill_mark (share of max_bytes).
// It disengages (hysteresis) once both fall below resume_ratio times
// their marks and, under a budget, the traffic of p and of every more
// important priority, at full resolution, fits in resume_ratio of the
// budget: a priority whose own traffic outruns the link stays summarized
// instead of refilling the spool and degrading again. Because a lower
// priority's backlog includes the higher ones', with equal marks low
// engages before normal.
//
// Threads: owned by the uplink thread; not thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "foggate/message/priority.h"

namespace foggate::routing {

struct DegradeLimits {
  bool enabled = true;        // Default: true (normal and low; critical and high never degrade)
  int64_t horizon_s = 3600;   // Default: normal 21600 (6 h), low 3600 (1 h)
  double fill_mark = 0.5;     // Default: normal 0.75, low 0.5 of spool.max_bytes
  int64_t window_s = 60;      // Default: normal 60, low 300: one summary per (device, topic, field) per window
};

struct DegradeOptions {
  std::array<DegradeLimits, kPriorityCount> limits = default_limits();
  double resume_ratio = 0.5;  // Default: 0.5: resume full resolution below half of both marks

  static std::array<DegradeLimits, kPriorityCount> default_limits() {
    std::array<DegradeLimits, kPriorityCount> l{};
    for (Priority p : {Priority::kCritical, Priority::kHigh}) l[index_of(p)].enabled = false;
    l[index_of(Priority::kNormal)] = {true, 21'600, 0.75, 60};
    l[index_of(Priority::kLow)] = {true, 3'600, 0.5, 300};
    return l;
  }
  static bool may_degrade(Priority p) { return p == Priority::kNormal || p == Priority::kLow; }
};

// What the policy looks at, read off the spool each uplink turn.
struct BacklogView {
  std::array<uint64_t, kPriorityCount> bytes{};  // spooled per priority
  uint64_t max_bytes = 0;                        // spool.max_bytes
  uint64_t budget_bytes_per_s = 0;               // 0 = unlimited
  // Recent traffic per priority in spooled bytes per second as if at full
  // resolution (summarized readings included); 0 when not measured.
  std::array<double, kPriorityCount> inflow_bytes_per_s{};
};

class DegradePolicy {
 public:
  explicit DegradePolicy(DegradeOptions options = {}) : options_(options) {}

  // Re-evaluates every priority; returns the new states (true = degraded).
  const std::array<bool, kPriorityCount>& update(const BacklogView& v) {
    uint64_t total = 0;
    for (uint64_t b : v.bytes) total += b;
    const double fill = v.max_bytes > 0 ? static_cast<double>(total) / static_cast<double>(v.max_bytes) : 0.0;
    uint64_t ahead = 0;       // bytes of p and of everything sent before it
    double inflow_ahead = 0;  // their traffic, bytes per second
    for (Priority p : kAllPriorities) {
      ahead += v.bytes[index_of(p)];
      inflow_ahead += v.inflow_bytes_per_s[index_of(p)];
      const auto& lim = options_.limits[index_of(p)];
      bool& on = degraded_[index_of(p)];
      if (!DegradeOptions::may_degrade(p) || !lim.enabled) {
        on = false;
        continue;
      }
      const double drain_s = v.budget_bytes_per_s > 0
                                 ? static_cast<double>(ahead) / static_cast<double>(v.budget_bytes_per_s)
                                 : 0.0;
      const double horizon = static_cast<double>(lim.horizon_s);
      if (!on) {
        on = (v.budget_bytes_per_s > 0 && drain_s > horizon) || fill > lim.fill_mark;
      } else {
        const double r = options_.resume_ratio;
        const double budget = static_cast<double>(v.budget_bytes_per_s);
        const bool fits = v.budget_bytes_per_s == 0 || inflow_ahead < budget * r;
        on = !(drain_s < horizon * r && fill < lim.fill_mark * r && fits);
      }
    }
    return degraded_;
  }

  // New marks (a live configuration change); the current states stay and
  // are re-evaluated against the new marks at the next update().
  void set_options(const DegradeOptions& options) { options_ = options; }

  bool degraded(Priority p) const { return degraded_[index_of(p)]; }
  const DegradeOptions& options() const { return options_; }

 private:
  DegradeOptions options_;
  std::array<bool, kPriorityCount> degraded_{};
};

}  // namespace foggate::routing
