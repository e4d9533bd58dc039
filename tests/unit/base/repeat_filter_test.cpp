#include "foggate/base/repeat_filter.h"

#include <gtest/gtest.h>

namespace foggate::log {
namespace {

TEST(RepeatFilterTest, FirstGoesOutRepeatsWithinTheWindowAreCounted) {
  ManualClock clock;
  RepeatFilter f(clock, 10'000);
  EXPECT_TRUE(f.admit("a").emit);
  clock.advance_ms(1);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(f.admit("a").emit);
  EXPECT_TRUE(f.admit("b").emit) << "a different line is not held";
  clock.advance_ms(9'998);
  EXPECT_FALSE(f.admit("a").emit) << "still inside the window";
  EXPECT_TRUE(f.take_ended().empty());
}

TEST(RepeatFilterTest, NextOccurrenceAfterTheWindowCarriesTheCount) {
  ManualClock clock;
  RepeatFilter f(clock, 10'000);
  ASSERT_TRUE(f.admit("a").emit);
  (void)f.admit("a");
  (void)f.admit("a");
  clock.advance_ms(10'000);
  const auto a = f.admit("a");
  EXPECT_TRUE(a.emit);
  EXPECT_EQ(a.held_back, 2u);
  // A new window: the next repeat is held again, and the count starts over.
  EXPECT_FALSE(f.admit("a").emit);
  clock.advance_ms(10'000);
  EXPECT_EQ(f.admit("a").held_back, 1u);
}

TEST(RepeatFilterTest, TakeEndedReportsCountsOnceAndForgets) {
  ManualClock clock;
  RepeatFilter f(clock, 10'000);
  (void)f.admit("a");
  (void)f.admit("a");
  (void)f.admit("quiet");  // no repeats: forgotten without a report
  clock.advance_ms(10'000);
  auto ended = f.take_ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].line, "a");
  EXPECT_EQ(ended[0].count, 1u);
  EXPECT_EQ(f.tracked(), 0u);
  EXPECT_TRUE(f.take_ended().empty());
  // After the report the line starts afresh: out at once, no count.
  const auto again = f.admit("a");
  EXPECT_TRUE(again.emit);
  EXPECT_EQ(again.held_back, 0u);
}

TEST(RepeatFilterTest, TrackedLinesAreBounded) {
  ManualClock clock;
  RepeatFilter f(clock, 10'000, 4);
  for (int i = 0; i < 4; ++i) (void)f.admit("line-" + std::to_string(i));
  // Full: new lines go out unfiltered and untracked.
  EXPECT_TRUE(f.admit("new").emit);
  EXPECT_TRUE(f.admit("new").emit);
  EXPECT_EQ(f.tracked(), 4u);
  (void)f.admit("line-0");  // held, counted
  // Once windows have ended, room is made (and held counts kept for the report).
  clock.advance_ms(10'000);
  EXPECT_TRUE(f.admit("new").emit);
  EXPECT_EQ(f.tracked(), 1u);
  auto ended = f.take_ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].line, "line-0");
}

}  // namespace
}  // namespace foggate::log
