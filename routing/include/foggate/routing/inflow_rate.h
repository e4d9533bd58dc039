// InflowRate: the recent rate of a byte stream, kept as a sum that decays
// with a half-life of kHalfLifeMs (as SharePicker keeps its byte history).
// In a steady stream the sum settles at rate * half-life / ln 2; the rate
// read off it lags a change by about one half-life, and starts low.
//
// Threads: owned by the uplink thread; not thread-safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace foggate::routing {

class InflowRate {
 public:
  static constexpr double kHalfLifeMs = 30'000;

  void add(uint64_t bytes) { sum_ += static_cast<double>(bytes); }

  // Bytes per second at `now_ms` (a monotonic clock, never going back).
  double per_s(int64_t now_ms) {
    if (now_ms > decayed_at_ms_) {
      sum_ *= std::exp2(-static_cast<double>(now_ms - decayed_at_ms_) / kHalfLifeMs);
      decayed_at_ms_ = now_ms;
    }
    return sum_ * std::numbers::ln2 / (kHalfLifeMs / 1000.0);
  }

 private:
  double sum_ = 0;
  int64_t decayed_at_ms_ = 0;
};

}  // namespace foggate::routing
