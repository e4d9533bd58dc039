#include "foggate/routing/inflow_rate.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

TEST(InflowRateTest, SteadyStreamSettlesAtItsRate) {
  InflowRate r;
  int64_t now = 1'000'000;
  r.per_s(now);
  for (int s = 0; s < 600; ++s) {  // 10 min of 1000 B/s, 100 B every 100 ms
    for (int k = 0; k < 10; ++k) {
      r.add(100);
      now += 100;
      r.per_s(now);
    }
  }
  EXPECT_NEAR(r.per_s(now), 1000.0, 20.0);
}

TEST(InflowRateTest, HalvesEveryHalfLifeOnceTheStreamStops) {
  InflowRate r;
  r.per_s(0);
  r.add(30'000);
  const double at_stop = r.per_s(0);
  EXPECT_GT(at_stop, 0);
  EXPECT_NEAR(r.per_s(static_cast<int64_t>(InflowRate::kHalfLifeMs)), at_stop / 2, at_stop * 1e-9);
  EXPECT_NEAR(r.per_s(static_cast<int64_t>(3 * InflowRate::kHalfLifeMs)), at_stop / 8, at_stop * 1e-9);
  // A clock that does not move (or an earlier reading) changes nothing.
  EXPECT_EQ(r.per_s(0), r.per_s(static_cast<int64_t>(3 * InflowRate::kHalfLifeMs)));
}

}  // namespace
}  // namespace foggate::routing
