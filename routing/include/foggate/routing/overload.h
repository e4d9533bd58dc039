// Routing under load: decides, before a task is queued, whether it is
// queued, shed or offloaded upstream. Pure: the caller supplies the load.
//
// A task is "overloaded" when the wait it would see (tasks ahead of it in
// its worker's queue times the recent service time, TaskQueue's estimate)
// would take it past its deadline, or when the process is over its CPU or
// memory marks. Only then does the task's OverloadAction apply. Critical
// tasks are always queued (the queue itself lets them exceed capacity);
// forward tasks are always queued too: they already go upstream, and
// handing them on costs less than any alternative.
#pragma once

#include <cstdint>
#include <string_view>

#include "foggate/routing/task.h"

namespace foggate::routing {

enum class Route : unsigned char { kQueue, kShed, kOffload };

inline constexpr std::string_view to_string(Route r) {
  switch (r) {
    case Route::kQueue: return "queue";
    case Route::kShed: return "shed";
    case Route::kOffload: return "offload";
  }
  return "queue";
}

struct Load {
  int64_t expected_wait_ms = 0;  // the queue's estimate for this priority
  bool pressure = false;         // CPU or memory over the configured marks
};

// `deadline_mono_ms` is absolute on the same clock as `now_mono_ms`.
inline Route route_under_load(const TaskSpec& spec, int64_t now_mono_ms, int64_t deadline_mono_ms, const Load& load) {
  if (spec.priority == Priority::kCritical || spec.kind != TaskKind::kDetect) return Route::kQueue;
  const bool misses_deadline = now_mono_ms + load.expected_wait_ms > deadline_mono_ms;
  if (!misses_deadline && !load.pressure) return Route::kQueue;
  switch (spec.on_overload) {
    case OverloadAction::kKeep: return Route::kQueue;
    case OverloadAction::kShed: return Route::kShed;
    case OverloadAction::kOffload: return Route::kOffload;
  }
  return Route::kQueue;
}

}  // namespace foggate::routing
