// ProcessUsage: this process's CPU time and resident memory, from /proc.
// The supervisor samples it once a second for the overload marks
// (gateway.overload) and for the metrics.
#pragma once

#include <cstdint>
#include <optional>

namespace foggate::gateway {

struct ProcessUsage {
  double cpu_seconds = 0;  // user + system, all threads
  int64_t rss_bytes = 0;
};

// nullopt where /proc is unavailable.
std::optional<ProcessUsage> read_process_usage();

// CPU use between two samples taken `wall_ms` apart, in percent of one core
// (200 = two cores busy).
inline double cpu_percent(const ProcessUsage& before, const ProcessUsage& after, int64_t wall_ms) {
  if (wall_ms <= 0) return 0;
  return (after.cpu_seconds - before.cpu_seconds) * 100'000.0 / static_cast<double>(wall_ms);
}

}  // namespace foggate::gateway
