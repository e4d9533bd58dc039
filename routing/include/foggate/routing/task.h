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

// What a rule yields: the kind, its priority and how long it may wait.
struct TaskSpec {
  TaskKind kind = TaskKind::kDetect;
  Priority priority = Priority::kNormal;
  int64_t deadline_ms = 5000;  // relative to the message's receive time
};

struct Task {
  TaskKind kind = TaskKind::kDetect;
  Priority priority = Priority::kNormal;
  int64_t deadline_mono_ms = 0;  // absolute, on Clock::mono_ms
  uint64_t seq = 0;              // assigned by the queue: FIFO among equal deadlines
  std::shared_ptr<const Message> message;
};

}  // namespace foggate::routing
