#include "foggate/routing/degrade_policy.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

BacklogView view(uint64_t critical, uint64_t high, uint64_t normal, uint64_t low, uint64_t budget,
                 uint64_t max_bytes = 1ull << 40) {
  BacklogView v;
  v.bytes = {critical, high, normal, low};
  v.budget_bytes_per_s = budget;
  v.max_bytes = max_bytes;
  return v;
}

// Default horizons: normal 6 h, low 1 h. Budget 1000 B/s.
TEST(DegradePolicyTest, LowEngagesFirstThenNormalNeverCriticalOrHigh) {
  DegradePolicy p;
  // 30 min of backlog: nothing.
  p.update(view(0, 0, 900'000, 900'000, 1000));
  EXPECT_FALSE(p.degraded(Priority::kLow));
  EXPECT_FALSE(p.degraded(Priority::kNormal));
  // Low's backlog (everything) over 1 h, normal's (critical..normal) not over 6 h.
  p.update(view(0, 0, 1'000'000, 3'000'000, 1000));
  EXPECT_TRUE(p.degraded(Priority::kLow));
  EXPECT_FALSE(p.degraded(Priority::kNormal));
  // Critical and high traffic pushes normal's backlog past 6 h.
  p.update(view(10'000'000, 10'000'000, 2'000'000, 3'000'000, 1000));
  EXPECT_TRUE(p.degraded(Priority::kLow));
  EXPECT_TRUE(p.degraded(Priority::kNormal));
  EXPECT_FALSE(p.degraded(Priority::kCritical));
  EXPECT_FALSE(p.degraded(Priority::kHigh));
}

TEST(DegradePolicyTest, ResumesOnlyBelowHalfTheMark) {
  DegradePolicy p;
  p.update(view(0, 0, 0, 4'000'000, 1000));  // 4000 s > 3600 s
  ASSERT_TRUE(p.degraded(Priority::kLow));
  p.update(view(0, 0, 0, 3'000'000, 1000));  // below the mark, above half of it
  EXPECT_TRUE(p.degraded(Priority::kLow));
  p.update(view(0, 0, 0, 1'700'000, 1000));  // 1700 s < 1800 s
  EXPECT_FALSE(p.degraded(Priority::kLow));
  p.update(view(0, 0, 0, 3'000'000, 1000));  // under the mark again: stays full resolution
  EXPECT_FALSE(p.degraded(Priority::kLow));
}

// A starved link: the backlog was compacted away, but the traffic still
// outruns the budget, so resuming would only refill the spool.
TEST(DegradePolicyTest, StaysDegradedWhileTheTrafficOutrunsTheBudget) {
  DegradePolicy p;
  p.update(view(0, 0, 0, 4'000'000, 1000));
  ASSERT_TRUE(p.degraded(Priority::kLow));
  auto v = view(0, 0, 0, 0, 1000);  // backlog gone
  v.inflow_bytes_per_s = {0, 0, 0, 30'000};
  p.update(v);
  EXPECT_TRUE(p.degraded(Priority::kLow));
  v.inflow_bytes_per_s = {0, 0, 0, 600};  // fits, but not within half the budget
  p.update(v);
  EXPECT_TRUE(p.degraded(Priority::kLow));
  v.inflow_bytes_per_s = {450, 0, 0, 100};  // critical's traffic is sent first: it counts too
  p.update(v);
  EXPECT_TRUE(p.degraded(Priority::kLow));
  v.inflow_bytes_per_s = {0, 0, 100, 300};
  p.update(v);
  EXPECT_FALSE(p.degraded(Priority::kLow));
}

TEST(DegradePolicyTest, TrafficDoesNotHoldBackResumingWithoutABudget) {
  DegradePolicy p;
  const uint64_t max = 1'000'000;
  p.update(view(0, 0, 0, 600'000, 0, max));
  ASSERT_TRUE(p.degraded(Priority::kLow));
  auto v = view(0, 0, 0, 100'000, 0, max);
  v.inflow_bytes_per_s = {0, 0, 0, 1e9};
  p.update(v);
  EXPECT_FALSE(p.degraded(Priority::kLow));
}

TEST(DegradePolicyTest, FillMarkEngagesWithoutABudget) {
  DegradePolicy p;
  const uint64_t max = 1'000'000;
  p.update(view(0, 0, 100'000, 300'000, 0, max));  // 40 %
  EXPECT_FALSE(p.degraded(Priority::kLow));
  p.update(view(0, 0, 100'000, 410'000, 0, max));  // 51 %: low's mark
  EXPECT_TRUE(p.degraded(Priority::kLow));
  EXPECT_FALSE(p.degraded(Priority::kNormal));
  p.update(view(0, 300'000, 100'000, 410'000, 0, max));  // 81 %: normal's
  EXPECT_TRUE(p.degraded(Priority::kNormal));
  p.update(view(0, 0, 0, 200'000, 0, max));  // 20 %: under half of low's 50 %
  EXPECT_FALSE(p.degraded(Priority::kLow));
  EXPECT_FALSE(p.degraded(Priority::kNormal));
}

TEST(DegradePolicyTest, DisabledPriorityNeverDegradesAndCriticalCannotBeEnabled) {
  DegradeOptions o;
  o.limits[index_of(Priority::kLow)].enabled = false;
  o.limits[index_of(Priority::kCritical)] = {true, 1, 0.0, 1};
  o.limits[index_of(Priority::kHigh)] = {true, 1, 0.0, 1};
  DegradePolicy p(o);
  p.update(view(1ull << 30, 1ull << 30, 1ull << 30, 1ull << 30, 1, 1));
  EXPECT_FALSE(p.degraded(Priority::kLow));
  EXPECT_FALSE(p.degraded(Priority::kCritical));
  EXPECT_FALSE(p.degraded(Priority::kHigh));
  EXPECT_TRUE(p.degraded(Priority::kNormal));
}

}  // namespace
}  // namespace foggate::routing
