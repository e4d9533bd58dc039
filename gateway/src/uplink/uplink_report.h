// What the uplink reports about itself: its metrics (Uplink::collect) and
// the minute's summary line (Uplink::log_summary), from its counters and
// the spool's. Reads atomics and counters only: any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "foggate/base/counter.h"
#include "foggate/storage/spool.h"
#include "uplink/uplink.h"

namespace foggate::gateway {

struct UplinkReport {
  const UplinkStats& stats;
  const storage::SpoolStats& spool;
  const std::array<std::atomic<int64_t>, kPriorityCount>& oldest_age_ms;
  bool connected;
};

void collect_uplink(const UplinkReport& u, MetricSink& out);
void log_uplink_summary(const UplinkReport& u, const std::string& last_error);

}  // namespace foggate::gateway
