#include "foggate/routing/task_queue.h"

#include <algorithm>

namespace foggate::routing {
namespace {

// std heap functions build a max-heap; "greater" puts the earliest
// deadline (then the lowest sequence) on top.
bool later(const Task& a, const Task& b) {
  if (a.deadline_mono_ms != b.deadline_mono_ms) return a.deadline_mono_ms > b.deadline_mono_ms;
  return a.seq > b.seq;
}

Task pop_top(std::vector<Task>& heap) {
  std::pop_heap(heap.begin(), heap.end(), later);
  Task t = std::move(heap.back());
  heap.pop_back();
  return t;
}

}  // namespace

uint64_t TaskQueueStats::shed_total() const {
  uint64_t n = 0;
  for (const auto& per : shed)
    for (const auto& c : per) n += c.value();
  return n;
}

void TaskQueueStats::collect(MetricSink& out, std::string_view queue) const {
  for (Priority p : kAllPriorities) {
    std::string pr(to_string(p));
    auto i = index_of(p);
    out.push_back({"tasks_queued_total", {{"queue", std::string(queue)}, {"priority", pr}},
                   static_cast<double>(queued[i].value())});
    out.push_back({"tasks_done_total", {{"queue", std::string(queue)}, {"priority", pr}},
                   static_cast<double>(done[i].value())});
    out.push_back({"tasks_late_total", {{"queue", std::string(queue)}, {"priority", pr}},
                   static_cast<double>(late[i].value())});
    for (std::size_t r = 0; r < kShedReasonCount; ++r) {
      out.push_back({"tasks_shed_total",
                     {{"queue", std::string(queue)},
                      {"priority", pr},
                      {"reason", std::string(to_string(static_cast<ShedReason>(r)))}},
                     static_cast<double>(shed[i][r].value())});
    }
  }
}

TaskQueue::TaskQueue(TaskQueueOptions options, const Clock& clock)
    : options_(options), clock_(clock) {}

void TaskQueue::shed_locked(Task&& t, ShedReason r) {
  stats_.shed[index_of(t.priority)][static_cast<std::size_t>(r)].add();
  // The task (and its share of the message) is released here.
  Task dropped = std::move(t);
  (void)dropped;
}

bool TaskQueue::try_push(Task task, bool wake) {
  task.queued_mono_ms = clock_.mono_ms();  // read outside the lock
  std::unique_lock lock(mu_);
  if (closed_) {
    shed_locked(std::move(task), ShedReason::kQueueFull);
    return false;
  }
  const auto pi = index_of(task.priority);
  if (size_ >= options_.capacity) {
    // Find the lowest queued priority that ranks below the new task.
    std::size_t victim = kPriorityCount;
    for (std::size_t i = kPriorityCount; i-- > pi + 1;) {
      if (!heaps_[i].empty()) {
        victim = i;
        break;
      }
    }
    if (victim != kPriorityCount) {
      shed_locked(pop_top(heaps_[victim]), ShedReason::kDisplaced);
      --size_;
    } else if (task.priority != Priority::kCritical) {
      shed_locked(std::move(task), ShedReason::kQueueFull);
      return false;
    } else if (size_ >= options_.capacity + options_.critical_overflow) {
      shed_locked(std::move(task), ShedReason::kCriticalOverflow);
      return false;
    }
  }
  task.seq = next_seq_++;
  heaps_[pi].push_back(std::move(task));
  std::push_heap(heaps_[pi].begin(), heaps_[pi].end(), later);
  ++size_;
  stats_.queued[pi].add();
  const bool notify = wake && waiting_ && !wake_pending_;
  if (notify) wake_pending_ = true;
  lock.unlock();
  if (notify) ready_.notify_one();
  return true;
}

void TaskQueue::wake() {
  std::unique_lock lock(mu_);
  const bool notify = waiting_ && !wake_pending_ && size_ > 0;
  if (notify) wake_pending_ = true;
  lock.unlock();
  if (notify) ready_.notify_one();
}

std::optional<Task> TaskQueue::take_locked() {
  const int64_t now = clock_.mono_ms();
  for (std::size_t i = 0; i < kPriorityCount; ++i) {
    auto& heap = heaps_[i];
    while (!heap.empty()) {
      Task t = pop_top(heap);
      --size_;
      const bool expired = t.deadline_mono_ms < now;
      // While draining for shutdown nothing expires: a clean stop flushes.
      if (expired && !closed_ && (t.priority == Priority::kLow || t.priority == Priority::kNormal)) {
        shed_locked(std::move(t), ShedReason::kExpired);
        continue;
      }
      if (expired) stats_.late[i].add();
      stats_.done[i].add();
      stats_.wait.record(now - t.queued_mono_ms);
      return t;
    }
  }
  return std::nullopt;
}

std::optional<Task> TaskQueue::pop() {
  std::unique_lock lock(mu_);
  while (true) {
    if (auto t = take_locked()) return t;
    if (closed_) return std::nullopt;
    waiting_ = true;
    ready_.wait(lock);
    waiting_ = false;
    wake_pending_ = false;
  }
}

std::optional<Task> TaskQueue::try_pop() {
  std::lock_guard lock(mu_);
  return take_locked();
}

void TaskQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  ready_.notify_all();
}

void TaskQueue::record_service_us(int64_t us) {
  const int64_t old = service_us_.load(std::memory_order_relaxed);
  service_us_.store(old == 0 ? us : old + (us - old) / 8, std::memory_order_relaxed);
}

int64_t TaskQueue::expected_wait_ms(Priority p) const {
  std::size_t ahead = 0;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i <= index_of(p); ++i) ahead += heaps_[i].size();
  }
  return (static_cast<int64_t>(ahead) * service_us() + 999) / 1000;
}

std::size_t TaskQueue::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

}  // namespace foggate::routing
