// Clock: the one source of time. Production code takes a Clock& so tests can
// inject ManualClock and drive hysteresis, cooldowns, deadlines and TTLs
// without sleeping.
//
// Thread-safety: SystemClock is stateless; ManualClock and JumpClock are
// safe to read from any thread while a test thread advances them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace foggate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds: for deadlines, cooldowns, intervals.
  virtual int64_t mono_ms() const = 0;
  // Wall-clock milliseconds since the Unix epoch: for timestamps on the wire.
  virtual int64_t wall_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t mono_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  int64_t wall_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'000'000, int64_t wall_offset_ms = 1'700'000'000'000)
      : now_(start_ms), wall_offset_(wall_offset_ms) {}
  int64_t mono_ms() const override { return now_.load(); }
  int64_t wall_ms() const override { return now_.load() + wall_offset_; }
  void advance_ms(int64_t d) { now_ += d; }
  void set_ms(int64_t t) { now_ = t; }

 private:
  std::atomic<int64_t> now_;
  int64_t wall_offset_;
};

// Real time plus a jump the caller controls: a real MQTT client's keepalive
// and backoff keep working while windows, ticks and TTLs can be driven
// ahead (integration tests, simulated-time benchmarks).
class JumpClock final : public Clock {
 public:
  int64_t mono_ms() const override { return SystemClock::instance().mono_ms() + offset_.load(); }
  int64_t wall_ms() const override { return SystemClock::instance().wall_ms() + offset_.load(); }
  void jump_ms(int64_t d) { offset_ += d; }

 private:
  std::atomic<int64_t> offset_{0};
};

}  // namespace foggate
