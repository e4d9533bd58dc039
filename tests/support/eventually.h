// eventually(): the one polling loop of the tests, for conditions that send
// no event to wait on (a counter, a process's exit, a port, a log line).
// Always bounded by a deadline; the interval only paces the polling and is
// never a wait for the condition itself. Header-only, shared by the unit
// and integration tests. Any thread; `cond` runs on the caller's thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace foggate::testing_support {

// Calls `cond` until it returns true or `timeout` has passed, sleeping
// `interval` between calls (never past the deadline). Returns whether it
// held; `cond` is called once more at the deadline, so a condition that
// became true during the last sleep still counts.
template <typename Cond>
bool eventually(Cond&& cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(interval, deadline - now));
  }
}

}  // namespace foggate::testing_support
