// What a thread says about itself to the kernel: its name, and for the
// threads whose work can wait, a lower CPU priority.
#pragma once

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "foggate/base/log.h"

namespace foggate {

// The calling thread's name as top -H, ps -L, perf and gdb show it (Linux
// keeps 15 bytes; the rest is cut). Every thread foggate starts is named as
// in docs/architecture.md's thread table.
inline void name_this_thread(std::string_view name) {
  const std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

// Raises the calling thread's nice value by `steps` (Linux sets it per
// thread; the kernel stops at 19), so that when the cores are all busy the
// kernel runs the others first. Raising needs no privilege; it cannot be
// undone without one, and threads this one starts inherit it. When the
// kernel refuses (a seccomp filter without setpriority), the thread keeps
// its priority and one warning says so.
inline void lower_this_thread_priority(int steps) {
  if (steps <= 0) return;
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  int err = errno;
  if (err == 0 && setpriority(PRIO_PROCESS, tid, now + steps) == 0) return;
  if (err == 0) err = errno;
  log::warn_once("gateway", "background_nice", "cannot lower a background thread's CPU priority; it runs as the others",
                 {{"errno", std::to_string(err)}});
}

// A thread whose work can wait: lowered first, then named, so that a
// thread found by its name already has its priority.
inline void name_this_background_thread(std::string_view name, int nice_steps) {
  lower_this_thread_priority(nice_steps);
  name_this_thread(name);
}

}  // namespace foggate
