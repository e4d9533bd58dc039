#include "foggate/routing/wait_histogram.h"

#include <gtest/gtest.h>

#include "foggate/routing/task_queue.h"

namespace foggate::routing {
namespace {

TEST(WaitHistogramTest, QuantilesAreBucketUpperBounds) {
  WaitHistogram h;
  const auto empty = h.snapshot();
  EXPECT_EQ(WaitHistogram::quantile_ms(empty, empty, 0.5), 0) << "nothing counted reads 0";
  for (int i = 0; i < 98; ++i) h.record(0);
  h.record(7);       // bucket "10"
  h.record(999999);  // past the last bound
  const auto now = h.snapshot();
  EXPECT_EQ(WaitHistogram::quantile_ms(now, empty, 0.5), 0);
  EXPECT_EQ(WaitHistogram::quantile_ms(now, empty, 0.98), 0);
  EXPECT_EQ(WaitHistogram::quantile_ms(now, empty, 0.99), 10);
  EXPECT_EQ(WaitHistogram::quantile_ms(now, empty, 1.0), 60000) << "the overflow reads as the last bound";
}

TEST(WaitHistogramTest, QuantileOfTheDifferenceOnly) {
  WaitHistogram h;
  for (int i = 0; i < 1000; ++i) h.record(3);  // an earlier interval: bucket "5"
  const auto before = h.snapshot();
  h.record(150);
  h.record(150);
  const auto now = h.snapshot();
  EXPECT_EQ(WaitHistogram::quantile_ms(now, before, 0.5), 200);
  EXPECT_EQ(WaitHistogram::quantile_ms(now, before, 0.99), 200);
  EXPECT_EQ(WaitHistogram::quantile_ms(now, now, 0.99), 0);
}

// A task of priority `p` due `due_in_ms` from now.
Task task(const Clock& clock, Priority p, int64_t due_in_ms) {
  return {.priority = p, .deadline_mono_ms = clock.mono_ms() + due_in_ms, .message = std::make_shared<Message>()};
}

uint64_t total(const WaitHistogram::Counts& c) {
  uint64_t n = 0;
  for (auto v : c) n += v;
  return n;
}

TEST(WaitHistogramTest, TaskQueueRecordsPushToPop) {
  ManualClock clock;
  TaskQueue q({.capacity = 8}, clock);
  ASSERT_TRUE(q.try_push(task(clock, Priority::kHigh, 10'000)));
  ASSERT_TRUE(q.try_push(task(clock, Priority::kHigh, 10'000)));
  clock.advance_ms(40);
  ASSERT_TRUE(q.try_pop().has_value());
  clock.advance_ms(400);
  ASSERT_TRUE(q.try_pop().has_value());
  const WaitHistogram::Counts none{};
  const auto c = q.stats().wait.snapshot();
  EXPECT_EQ(WaitHistogram::quantile_ms(c, none, 0.5), 50);
  EXPECT_EQ(WaitHistogram::quantile_ms(c, none, 0.99), 500);
}

TEST(WaitHistogramTest, ShedTasksAreNotCountedLateOnesAre) {
  ManualClock clock;
  TaskQueue q({.capacity = 8}, clock);
  ASSERT_TRUE(q.try_push(task(clock, Priority::kLow, 10)));
  clock.advance_ms(100);
  EXPECT_FALSE(q.try_pop().has_value()) << "expired low task is shed";
  EXPECT_EQ(total(q.stats().wait.snapshot()), 0u);
  ASSERT_TRUE(q.try_push(task(clock, Priority::kHigh, 10)));
  clock.advance_ms(100);
  EXPECT_TRUE(q.try_pop().has_value()) << "a late high task runs";
  EXPECT_EQ(total(q.stats().wait.snapshot()), 1u);
}

}  // namespace
}  // namespace foggate::routing
