// LoadSampler: once a second, this process's CPU and RSS, for the metrics
// and for the gateway.overload marks: past either mark, Ingest routes tasks
// by their on_overload policy (routing/overload.h).
//
// Threads: sample() on the supervisor only; collect() from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/gateway/config.h"
#include "ingress/ingest.h"
#include "ops/process_usage.h"

namespace foggate::gateway {

class LoadSampler {
 public:
  LoadSampler(const GatewaySection& gw, Ingest& ingest, const Clock& clock)
      : cpu_mark_percent_(gw.overload_cpu_percent), rss_mark_mb_(gw.overload_rss_mb), ingest_(ingest), clock_(clock) {}

  // Samples when a second has passed since the last sample.
  void sample();
  void collect(MetricSink& out) const;

 private:
  const int cpu_mark_percent_;  // 0: off
  const int64_t rss_mark_mb_;   // 0: off
  Ingest& ingest_;
  const Clock& clock_;
  int64_t next_sample_ms_ = 0;  // supervisor thread only
  int64_t last_usage_ms_ = 0;   // supervisor thread only
  ProcessUsage last_usage_;     // supervisor thread only
  std::atomic<int64_t> cpu_percent_x10_{0};
  std::atomic<int64_t> rss_bytes_{0};
};

}  // namespace foggate::gateway
