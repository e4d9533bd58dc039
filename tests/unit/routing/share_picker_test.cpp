#include "foggate/routing/share_picker.h"

#include <gtest/gtest.h>

#include <set>

namespace foggate::routing {
namespace {

// Shares as the uplink section defaults them: critical, high, normal, low.
constexpr SharePicker::Shares kDefaultShares{0.0, 0.1, 0.05, 0.05};

auto pending(std::set<Priority> ps) {
  return [ps](Priority p) { return ps.contains(p); };
}

TEST(SharePickerTest, NothingPendingPicksNothing) {
  ManualClock clock;
  SharePicker picker(kDefaultShares, clock);
  EXPECT_FALSE(picker.pick(pending({})).has_value());
}

TEST(SharePickerTest, CriticalAlwaysGoesFirstEvenWhenOthersAreStarved) {
  ManualClock clock;
  SharePicker picker(kDefaultShares, clock);
  for (int i = 0; i < 100; ++i) picker.record_sent(Priority::kCritical, 10'000);
  EXPECT_EQ(picker.pick(pending({Priority::kCritical, Priority::kLow})), Priority::kCritical);
}

TEST(SharePickerTest, MostImportantGoesFirstWhileEveryShareIsMet) {
  ManualClock clock;
  SharePicker picker(kDefaultShares, clock);
  // No history: every share is 0 and the low one's deficit (0.05) makes it
  // starved, so give each priority its share first.
  picker.record_sent(Priority::kHigh, 800);
  picker.record_sent(Priority::kNormal, 100);
  picker.record_sent(Priority::kLow, 100);
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kNormal, Priority::kLow})), Priority::kHigh);
}

TEST(SharePickerTest, StarvedPriorityGetsItsMinimumShare) {
  ManualClock clock;
  SharePicker picker(kDefaultShares, clock);
  const auto all = pending({Priority::kHigh, Priority::kNormal, Priority::kLow});
  // Send 1000-byte batches as the picker says, 10 000 times, a ms apart.
  std::array<uint64_t, kPriorityCount> bytes{};
  for (int i = 0; i < 10'000; ++i) {
    const auto p = picker.pick(all);
    ASSERT_TRUE(p.has_value());
    picker.record_sent(*p, 1000);
    bytes[index_of(*p)] += 1000;
    clock.advance_ms(1);
  }
  const double total = static_cast<double>(bytes[1] + bytes[2] + bytes[3]);
  EXPECT_NEAR(static_cast<double>(bytes[index_of(Priority::kNormal)]) / total, 0.05, 0.01);
  EXPECT_NEAR(static_cast<double>(bytes[index_of(Priority::kLow)]) / total, 0.05, 0.01);
  EXPECT_NEAR(static_cast<double>(bytes[index_of(Priority::kHigh)]) / total, 0.90, 0.02);
}

TEST(SharePickerTest, LargestShortfallGoesFirst) {
  ManualClock clock;
  SharePicker picker({0.0, 0.0, 0.2, 0.1}, clock);
  picker.record_sent(Priority::kHigh, 1000);
  // normal short by 0.2, low by 0.1: normal goes before the high that leads.
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kNormal, Priority::kLow})), Priority::kNormal);
}

TEST(SharePickerTest, OldHistoryDecaysWithTheHalfLife) {
  ManualClock clock;
  SharePicker picker({0.0, 0.0, 0.0, 0.3}, clock);
  picker.record_sent(Priority::kLow, 1000);
  picker.record_sent(Priority::kHigh, 1000);
  // low holds half of what was sent: its 0.3 is met, high goes.
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kLow})), Priority::kHigh);
  // Three half-lives on, fresh high traffic dwarfs low's decayed 125 bytes.
  // (Bytes are recorded right after the pick that chose them, as the uplink does.)
  clock.advance_ms(static_cast<int64_t>(3 * SharePicker::kShareHalfLifeMs));
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kLow})), Priority::kHigh);
  picker.record_sent(Priority::kHigh, 1000);
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kLow})), Priority::kLow);
}

TEST(SharePickerTest, NewMinimumSharesApplyToTheNextPick) {
  ManualClock clock;
  SharePicker picker({0.0, 0.0, 0.0, 0.0}, clock);
  picker.record_sent(Priority::kHigh, 1000);
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kLow})), Priority::kHigh);
  picker.set_min_share({0.0, 0.0, 0.0, 0.5});
  EXPECT_EQ(picker.pick(pending({Priority::kHigh, Priority::kLow})), Priority::kLow);
}

}  // namespace
}  // namespace foggate::routing
