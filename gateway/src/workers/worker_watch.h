// WorkerWatch: decides whether every worker is making progress, so the
// supervisor pings systemd's watchdog only while they are. A worker is
// stuck when tasks wait in its queue and its progress counter (tasks taken,
// bumped by the worker) has not moved for `stall_ms`. An idle worker with
// an empty queue is never stuck, however long it waits.
//
// Pure logic: the caller passes the counters and the time. Supervisor
// thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace foggate::gateway {

class WorkerWatch {
 public:
  WorkerWatch(std::size_t workers, int64_t stall_ms) : stall_ms_(stall_ms), workers_(workers) {}

  // Records worker `i`'s state at `now_ms`; returns false while it is stuck.
  bool observe(std::size_t i, uint64_t progress, std::size_t queued, int64_t now_ms) {
    auto& w = workers_.at(i);
    const bool waiting_before = w.waiting;
    w.waiting = queued > 0;
    if (!waiting_before || progress != w.progress || queued == 0) {
      w.progress = progress;
      w.since_ms = now_ms;
      return true;
    }
    return now_ms - w.since_ms < stall_ms_;
  }

  // How long worker `i` has had tasks waiting without progress.
  int64_t stalled_ms(std::size_t i, int64_t now_ms) const { return now_ms - workers_.at(i).since_ms; }

 private:
  struct Worker {
    bool waiting = false;  // tasks were queued at the last observation
    uint64_t progress = 0;
    int64_t since_ms = 0;  // when progress last moved or tasks were first seen waiting
  };
  const int64_t stall_ms_;
  std::vector<Worker> workers_;
};

}  // namespace foggate::gateway
