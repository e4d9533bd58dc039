// Task: one unit of scheduled work derived from a message by the RuleSet.
// A message that yields several tasks (detect + forward) shares one
// immutable Message between them.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "foggate/message/message.h"
#include "foggate/message/priority.h"

namespace foggate::routing {

enum class TaskKind : unsigned char { kDetect, kForward, kDrop };

inline constexpr std::string_view to_string(TaskKind k) {
  switch (k) {
    case TaskKind::kDetect: return "detect";
    case TaskKind::kForward: return "forward";
    case TaskKind::kDrop: return "drop";
  }
  return "drop";
}

// What happens to a task when the gateway is overloaded (its deadline would
// be missed in the queue, or CPU/memory pressure is over the configured
// marks). Critical tasks are never shed or offloaded.
enum class OverloadAction : unsigned char {
  kKeep,     // queue it anyway and run it late (the default)
  kShed,     // drop it, counted
  kOffload,  // send the raw message upstream flagged "offloaded": the cloud does the work
};

inline constexpr std::string_view to_string(OverloadAction a) {
  switch (a) {
    case OverloadAction::kKeep: return "keep";
    case OverloadAction::kShed: return "shed";
    case OverloadAction::kOffload: return "offload";
  }
  return "keep";
}

// What a rule yields: the kind, its priority and how long it may wait.
struct TaskSpec {
  TaskKind kind = TaskKind::kDetect;
  Priority priority = Priority::kNormal;
  int64_t deadline_ms = 5000;  // relative to the message's receive time
  OverloadAction on_overload = OverloadAction::kKeep;
};

struct Task {
  TaskKind kind = TaskKind::kDetect;
  Priority priority = Priority::kNormal;
  int64_t deadline_mono_ms = 0;  // absolute, on Clock::mono_ms
  uint64_t seq = 0;              // assigned by the queue: FIFO among equal deadlines
  int64_t queued_mono_ms = 0;    // set by the queue on try_push: the wait histogram starts here
  std::shared_ptr<const Message> message;
};

}  // namespace foggate::routing
