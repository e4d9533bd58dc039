#include "foggate/routing/token_bucket.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

TEST(TokenBucketTest, StartsFullAndRefillsAtRate) {
  ManualClock clock;
  TokenBucket b(1000, 500, clock);  // 1000 B/s, burst 500 B
  EXPECT_TRUE(b.try_take(500));
  EXPECT_FALSE(b.try_take(1));
  EXPECT_EQ(b.wait_ms(100), 101);
  clock.advance_ms(100);  // +100 B
  EXPECT_TRUE(b.try_take(100));
  EXPECT_FALSE(b.try_take(1));
  clock.advance_ms(10'000);  // capped at the burst
  EXPECT_DOUBLE_EQ(b.tokens(), 500);
}

TEST(TokenBucketTest, NeverExceedsRateTimesWindowPlusBurst) {
  ManualClock clock;
  TokenBucket b(2000, 1000, clock);
  uint64_t sent = 0;
  // Greedy sender trying 300-byte sends every 7 ms for 10 s.
  for (int t = 0; t < 10'000; t += 7) {
    while (b.try_take(300)) sent += 300;
    clock.advance_ms(7);
  }
  EXPECT_LE(sent, 2000u * 10 + 1000);
  EXPECT_GE(sent, 2000u * 10 - 300) << "and it uses the budget";
}

TEST(TokenBucketTest, OversizedSendWaitsForAFullBucketThenLeavesDebt) {
  ManualClock clock;
  TokenBucket b(1000, 500, clock);
  EXPECT_TRUE(b.try_take(100));
  EXPECT_FALSE(b.try_take(800)) << "bucket not full";
  clock.advance_ms(100);
  EXPECT_TRUE(b.try_take(800));
  EXPECT_DOUBLE_EQ(b.tokens(), -300);
  EXPECT_EQ(b.wait_ms(1), 302);
}

TEST(TokenBucketTest, ZeroRateIsUnlimited) {
  ManualClock clock;
  TokenBucket b(0, 0, clock);
  EXPECT_TRUE(b.unlimited());
  EXPECT_TRUE(b.try_take(1u << 30));
  EXPECT_EQ(b.wait_ms(1u << 30), 0);
}

}  // namespace
}  // namespace foggate::routing
