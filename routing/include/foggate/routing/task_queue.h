// TaskQueue: a bounded priority queue of Tasks. Higher priority first; within
// a priority, earliest deadline first, then FIFO.
//
// Overload policy (nothing is dropped silently; every shed is counted by
// priority and reason):
//  - Full, and the new task outranks something queued: the stalest task
//    (earliest deadline) of the lowest queued priority is shed ("displaced")
//    and the new task is queued.
//  - Full, and nothing queued ranks below the new task: the new task is shed
//    ("queue_full"), except critical tasks, which are queued past the
//    capacity up to critical_overflow more; only past that is a critical
//    task refused ("critical_overflow"), an alarm-level event.
//  - A low or normal task whose deadline has passed when a worker reaches it
//    is shed ("expired"): under overload stale low-value work gives way.
//    High and critical tasks run late instead, counted as "late".
//
// Threads: try_push() from any ingest thread (never blocks beyond a short
// mutex); pop() from the one worker that owns this queue. close() from the
// owner of the lifecycle.
#pragma once

#include <atomic>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/routing/task.h"
#include "foggate/routing/wait_histogram.h"

namespace foggate::routing {

struct TaskQueueOptions {
  std::size_t capacity = 4096;           // Default: 4096 tasks
  std::size_t critical_overflow = 1024;  // Default: 1024 critical tasks beyond capacity
};

enum class ShedReason : unsigned char { kQueueFull, kDisplaced, kExpired, kCriticalOverflow };
inline constexpr std::size_t kShedReasonCount = 4;
inline constexpr std::string_view to_string(ShedReason r) {
  switch (r) {
    case ShedReason::kQueueFull: return "queue_full";
    case ShedReason::kDisplaced: return "displaced";
    case ShedReason::kExpired: return "expired";
    case ShedReason::kCriticalOverflow: return "critical_overflow";
  }
  return "queue_full";
}

struct TaskQueueStats {
  std::array<Counter, kPriorityCount> queued;  // accepted by try_push
  std::array<Counter, kPriorityCount> done;    // handed to a worker
  std::array<Counter, kPriorityCount> late;    // handed out past their deadline
  std::array<std::array<Counter, kShedReasonCount>, kPriorityCount> shed;
  WaitHistogram wait;  // try_push to pop, for the tasks handed to a worker

  uint64_t shed_total() const;
  void collect(MetricSink& out, std::string_view queue) const;
};

class TaskQueue {
 public:
  TaskQueue(TaskQueueOptions options, const Clock& clock);

  // Queues `task` or sheds something per the policy above. Returns false
  // when `task` itself was shed. With `wake` false a sleeping worker is
  // not woken: a producer that pushes many tasks in a row (a chunk read
  // from the socket) calls wake() once at the end instead of waking the
  // worker (a futex call and a context switch) per task.
  bool try_push(Task task, bool wake = true);
  // Wakes the worker if it sleeps with tasks queued.
  void wake();

  // Blocks until a task is ready or the queue is closed and empty.
  std::optional<Task> pop();
  // Non-blocking variant.
  std::optional<Task> try_pop();

  // Wakes the worker; pop() drains what is left, then returns nullopt.
  void close();

  std::size_t size() const;
  const TaskQueueStats& stats() const { return stats_; }

  // The worker reports how long each task took; the queue keeps a moving
  // average (weight 1/8 for the newest), so the estimate follows load
  // changes within tens of tasks. From the owning worker only.
  void record_service_us(int64_t us);
  int64_t service_us() const { return service_us_.load(std::memory_order_relaxed); }
  // How long a new task of priority `p` would wait: the tasks queued at
  // its priority or above times the average service time (rounded up).
  // Any thread.
  int64_t expected_wait_ms(Priority p) const;

 private:
  using Heap = std::vector<Task>;
  std::optional<Task> take_locked();
  void shed_locked(Task&& t, ShedReason r);

  const TaskQueueOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::array<Heap, kPriorityCount> heaps_;  // guarded by mu_
  std::size_t size_ = 0;                    // guarded by mu_
  uint64_t next_seq_ = 0;                   // guarded by mu_
  bool closed_ = false;                     // guarded by mu_
  // A push wakes the worker only when it sleeps and no wake is already on
  // its way: between a wake and the worker running, many pushes may come,
  // and each extra notify would be a futex call for nothing.
  bool waiting_ = false;      // guarded by mu_
  bool wake_pending_ = false; // guarded by mu_
  std::atomic<int64_t> service_us_{0};
  TaskQueueStats stats_;
};

}  // namespace foggate::routing
