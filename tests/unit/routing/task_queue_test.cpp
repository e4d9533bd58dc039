#include "foggate/routing/task_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace foggate::routing {
namespace {

Task make_task(Priority p, int64_t deadline, std::string device = "d") {
  auto m = std::make_shared<Message>();
  m->device = std::move(device);
  return Task{.kind = TaskKind::kDetect, .priority = p, .deadline_mono_ms = deadline, .message = m};
}

uint64_t shed(const TaskQueue& q, Priority p, ShedReason r) {
  return q.stats().shed[index_of(p)][static_cast<std::size_t>(r)].value();
}

TEST(TaskQueueTest, PriorityThenEarliestDeadlineThenFifo) {
  ManualClock clock;
  TaskQueue q({.capacity = 16}, clock);
  const int64_t t0 = clock.mono_ms();
  ASSERT_TRUE(q.try_push(make_task(Priority::kLow, t0 + 100, "low")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, t0 + 500, "n-late")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, t0 + 200, "n-early")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, t0 + 200, "n-early-2")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kCritical, t0 + 900, "crit")));
  std::vector<std::string> order;
  while (auto t = q.try_pop()) order.push_back(t->message->device);
  EXPECT_EQ(order, (std::vector<std::string>{"crit", "n-early", "n-early-2", "n-late", "low"}));
}

TEST(TaskQueueTest, FullQueueDisplacesLowestPriorityFirst) {
  ManualClock clock;
  TaskQueue q({.capacity = 3, .critical_overflow = 2}, clock);
  const int64_t t0 = clock.mono_ms() + 1000;
  ASSERT_TRUE(q.try_push(make_task(Priority::kLow, t0, "low1")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, t0, "n1")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kLow, t0 + 1, "low2")));
  // Full. A high task displaces the stalest low one.
  ASSERT_TRUE(q.try_push(make_task(Priority::kHigh, t0, "h1")));
  EXPECT_EQ(shed(q, Priority::kLow, ShedReason::kDisplaced), 1u);
  // A low task finds nothing below it: it is shed itself.
  EXPECT_FALSE(q.try_push(make_task(Priority::kLow, t0, "low3")));
  EXPECT_EQ(shed(q, Priority::kLow, ShedReason::kQueueFull), 1u);
  // Normal displaces the remaining low.
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, t0, "n2")));
  EXPECT_EQ(shed(q, Priority::kLow, ShedReason::kDisplaced), 2u);
  EXPECT_EQ(q.size(), 3u);
  std::vector<std::string> order;
  while (auto t = q.try_pop()) order.push_back(t->message->device);
  EXPECT_EQ(order, (std::vector<std::string>{"h1", "n1", "n2"}));
}

TEST(TaskQueueTest, CriticalIsNeverShedWhileLowerTasksExistAndOverflowsBounded) {
  ManualClock clock;
  TaskQueue q({.capacity = 2, .critical_overflow = 1}, clock);
  const int64_t t0 = clock.mono_ms() + 1000;
  ASSERT_TRUE(q.try_push(make_task(Priority::kHigh, t0)));
  ASSERT_TRUE(q.try_push(make_task(Priority::kHigh, t0)));
  ASSERT_TRUE(q.try_push(make_task(Priority::kCritical, t0)));  // displaces a high
  ASSERT_TRUE(q.try_push(make_task(Priority::kCritical, t0)));  // displaces the other high
  EXPECT_EQ(shed(q, Priority::kHigh, ShedReason::kDisplaced), 2u);
  ASSERT_TRUE(q.try_push(make_task(Priority::kCritical, t0)));  // over capacity, within overflow
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.try_push(make_task(Priority::kCritical, t0)));
  EXPECT_EQ(shed(q, Priority::kCritical, ShedReason::kCriticalOverflow), 1u);
  EXPECT_EQ(q.stats().shed_total(), 3u);
}

TEST(TaskQueueTest, ExpiredLowAndNormalAreShedHighRunsLate) {
  ManualClock clock;
  TaskQueue q({.capacity = 16}, clock);
  const int64_t t0 = clock.mono_ms();
  ASSERT_TRUE(q.try_push(make_task(Priority::kHigh, t0 + 10, "high")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, t0 + 10, "normal")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kLow, t0 + 10, "low")));
  ASSERT_TRUE(q.try_push(make_task(Priority::kLow, t0 + 1000, "fresh")));
  clock.advance_ms(50);
  std::vector<std::string> order;
  while (auto t = q.try_pop()) order.push_back(t->message->device);
  EXPECT_EQ(order, (std::vector<std::string>{"high", "fresh"}));
  EXPECT_EQ(shed(q, Priority::kNormal, ShedReason::kExpired), 1u);
  EXPECT_EQ(shed(q, Priority::kLow, ShedReason::kExpired), 1u);
  EXPECT_EQ(q.stats().late[index_of(Priority::kHigh)].value(), 1u);
}

TEST(TaskQueueTest, CloseDrainsWithoutExpiringThenEnds) {
  ManualClock clock;
  TaskQueue q({.capacity = 16}, clock);
  ASSERT_TRUE(q.try_push(make_task(Priority::kLow, clock.mono_ms() + 1)));
  clock.advance_ms(100);
  q.close();
  auto t = q.pop();
  ASSERT_TRUE(t.has_value()) << "a clean stop flushes what was queued";
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_FALSE(q.try_push(make_task(Priority::kLow, 0)));
}

TEST(TaskQueueTest, PopBlocksUntilPush) {
  ManualClock clock;
  TaskQueue q({.capacity = 4}, clock);
  std::optional<Task> got;
  std::thread worker([&] { got = q.pop(); });
  ASSERT_TRUE(q.try_push(make_task(Priority::kNormal, clock.mono_ms() + 1000, "x")));
  worker.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->message->device, "x");
}

}  // namespace
}  // namespace foggate::routing
