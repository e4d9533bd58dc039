#include "foggate/routing/overload.h"

#include <gtest/gtest.h>

#include "foggate/base/clock.h"
#include "foggate/routing/task_queue.h"

namespace foggate::routing {
namespace {

TaskSpec detect(Priority p, OverloadAction a) { return {TaskKind::kDetect, p, 100, a}; }

TEST(RouteUnderLoadTest, DeadlineMissDecidesAndPolicyChooses) {
  const Load fine{.expected_wait_ms = 99}, late{.expected_wait_ms = 101};
  for (auto a : {OverloadAction::kKeep, OverloadAction::kShed, OverloadAction::kOffload})
    EXPECT_EQ(route_under_load(detect(Priority::kNormal, a), 1000, 1100, fine), Route::kQueue);
  EXPECT_EQ(route_under_load(detect(Priority::kNormal, OverloadAction::kKeep), 1000, 1100, late), Route::kQueue);
  EXPECT_EQ(route_under_load(detect(Priority::kNormal, OverloadAction::kShed), 1000, 1100, late), Route::kShed);
  EXPECT_EQ(route_under_load(detect(Priority::kHigh, OverloadAction::kOffload), 1000, 1100, late), Route::kOffload);
}

TEST(RouteUnderLoadTest, PressureAppliesThePolicyWithoutADeadlineMiss) {
  const Load pressure{.expected_wait_ms = 0, .pressure = true};
  EXPECT_EQ(route_under_load(detect(Priority::kLow, OverloadAction::kShed), 0, 100, pressure), Route::kShed);
  EXPECT_EQ(route_under_load(detect(Priority::kLow, OverloadAction::kKeep), 0, 100, pressure), Route::kQueue);
}

TEST(RouteUnderLoadTest, CriticalAndForwardTasksAreAlwaysQueued) {
  const Load worst{.expected_wait_ms = 1'000'000, .pressure = true};
  EXPECT_EQ(route_under_load(detect(Priority::kCritical, OverloadAction::kShed), 0, 100, worst), Route::kQueue);
  EXPECT_EQ(route_under_load(detect(Priority::kCritical, OverloadAction::kOffload), 0, 100, worst), Route::kQueue);
  const TaskSpec fwd{TaskKind::kForward, Priority::kLow, 100, OverloadAction::kShed};
  EXPECT_EQ(route_under_load(fwd, 0, 100, worst), Route::kQueue);
}

TEST(TaskQueueWaitTest, CountsTasksAtOrAbovePriorityTimesServiceTime) {
  ManualClock clock;
  TaskQueue q({.capacity = 100}, clock);
  EXPECT_EQ(q.expected_wait_ms(Priority::kLow), 0);  // no service time known yet
  auto push = [&](Priority p) { q.try_push(Task{.kind = TaskKind::kDetect, .priority = p, .deadline_mono_ms = 1000}); };
  push(Priority::kCritical);
  push(Priority::kHigh);
  push(Priority::kNormal);
  push(Priority::kNormal);
  push(Priority::kLow);
  q.record_service_us(2000);
  EXPECT_EQ(q.expected_wait_ms(Priority::kCritical), 2);
  EXPECT_EQ(q.expected_wait_ms(Priority::kHigh), 4);
  EXPECT_EQ(q.expected_wait_ms(Priority::kNormal), 8);
  EXPECT_EQ(q.expected_wait_ms(Priority::kLow), 10);
}

TEST(TaskQueueWaitTest, ServiceTimeIsAMovingAverage) {
  ManualClock clock;
  TaskQueue q({.capacity = 16}, clock);
  q.record_service_us(800);
  EXPECT_EQ(q.service_us(), 800);  // the first sample is taken as is
  q.record_service_us(1600);
  EXPECT_EQ(q.service_us(), 900);  // 800 + (1600 - 800) / 8
  for (int i = 0; i < 100; ++i) q.record_service_us(100);
  EXPECT_LT(q.service_us(), 110);  // follows a change within tens of tasks
}

}  // namespace
}  // namespace foggate::routing
