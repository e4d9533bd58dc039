// TokenBucket: limits the bytes per second put on the uplink.
//
// Tokens are bytes. The bucket refills at `rate` bytes/s up to `burst`.
// A send of n bytes needs n tokens, so over any window of T seconds at most
// rate·T + burst bytes leave. rate 0 means unlimited.
//
// Threads: owned by the uplink thread; not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>

#include "foggate/base/clock.h"

namespace foggate::routing {

class TokenBucket {
 public:
  TokenBucket(uint64_t rate_bytes_per_s, uint64_t burst_bytes, const Clock& clock)
      : rate_(rate_bytes_per_s), burst_(burst_bytes), clock_(clock),
        tokens_(static_cast<double>(burst_bytes)), last_ms_(clock.mono_ms()) {}

  bool unlimited() const { return rate_ == 0; }
  uint64_t burst() const { return burst_; }

  // Takes n tokens when available; false (and takes nothing) otherwise.
  // A request larger than the burst could never fit: it goes when the
  // bucket is full and leaves it in debt, so the long-run rate still holds.
  // (The configuration keeps batches below the burst; compression overhead
  // on incompressible data can still exceed it slightly.)
  bool try_take(uint64_t n) {
    if (unlimited()) return true;
    refill();
    const double need = std::min(static_cast<double>(n), static_cast<double>(burst_));
    if (tokens_ < need) return false;
    tokens_ -= static_cast<double>(n);
    return true;
  }

  // Milliseconds until n tokens are available (0 when they are now).
  int64_t wait_ms(uint64_t n) {
    if (unlimited()) return 0;
    refill();
    const double missing = std::min(static_cast<double>(n), static_cast<double>(burst_)) - tokens_;
    if (missing <= 0) return 0;
    return static_cast<int64_t>(missing * 1000.0 / static_cast<double>(rate_)) + 1;
  }

  double tokens() {
    refill();
    return tokens_;
  }

 private:
  void refill() {
    const int64_t now = clock_.mono_ms();
    if (now <= last_ms_) return;
    tokens_ = std::min(static_cast<double>(burst_),
                       tokens_ + static_cast<double>(now - last_ms_) * static_cast<double>(rate_) / 1000.0);
    last_ms_ = now;
  }

  const uint64_t rate_;
  const uint64_t burst_;
  const Clock& clock_;
  double tokens_;
  int64_t last_ms_;
};

}  // namespace foggate::routing
