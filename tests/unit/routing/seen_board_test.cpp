#include "foggate/routing/seen_board.h"

#include <gtest/gtest.h>

#include "foggate/routing/detectors.h"

namespace foggate::routing {
namespace {

std::vector<std::string> stale(SeenBoard& b, int64_t now, int64_t after = 1000) {
  std::vector<SeenBoard::Silent> out;
  b.collect_stale(now, [after](std::string_view d) { return d == "hot" ? after : 0; }, out);
  std::vector<std::string> names;
  for (const auto& s : out) names.push_back(s.detector + "/" + s.device);
  return names;
}

using Names = std::vector<std::string>;

TEST(SeenBoardTest, SilenceLongerThanTheLimitIsStaleOnceAndTheNextReadingEndsIt) {
  SeenBoard b;
  EXPECT_FALSE(b.seen("hot", "d1", 0));
  EXPECT_FALSE(b.seen("hot", "d2", 500));
  EXPECT_EQ(stale(b, 1000), Names{}) << "exactly the limit is not yet silent";
  EXPECT_EQ(stale(b, 1001), Names{"hot/d1"});
  EXPECT_EQ(stale(b, 1400), Names{}) << "raised once";
  EXPECT_EQ(stale(b, 1501), Names{"hot/d2"});
  EXPECT_TRUE(b.seen("hot", "d1", 2000));
  EXPECT_FALSE(b.seen("hot", "d1", 2100));
  EXPECT_EQ(stale(b, 3101), Names{"hot/d1"});
}

TEST(SeenBoardTest, PairsOfDetectorsWithoutALimitAreForgotten) {
  SeenBoard b;
  b.seen("gone", "d1", 0);
  b.seen("hot", "d1", 0);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(stale(b, 5000), Names{"hot/d1"});
  EXPECT_EQ(b.size(), 1u);
}

TEST(SeenBoardTest, BeyondTheCapNewPairsAreRefusedAndCounted) {
  SeenBoard b(2);
  b.seen("hot", "d1", 0);
  b.seen("hot", "d2", 0);
  b.seen("hot", "d3", 0);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.refused(), 1u);
}

TEST(SeenBoardTest, ARestoredStalePairIsClearedByItsNextReadingAndNotRaisedAgain) {
  SeenBoard b;
  b.restore_stale("hot", "d1", 0);
  EXPECT_EQ(stale(b, 10'000), Names{});
  EXPECT_TRUE(b.seen("hot", "d1", 10'001));
}

TEST(SeenBoardTest, DetectorBankReportsReadingsAndClearsAStalePair) {
  ManualClock clock(0);
  DetectorStats stats;
  SeenBoard board;
  auto specs = std::make_shared<const std::vector<DetectorSpec>>(std::vector<DetectorSpec>{
      {.name = "hot", .field = "t", .severity = "critical", .max = 50, .stale_after_ms = 1000}});
  DetectorBank bank(specs, clock, stats);
  bank.set_seen_board(&board);
  Message m;
  m.device = "d1";
  m.fields.push_back({"t", 20.0});
  std::vector<Alert> out;
  bank.evaluate(m, out);
  EXPECT_TRUE(out.empty());
  clock.advance_ms(1001);
  EXPECT_EQ(stale(board, clock.mono_ms()), Names{"hot/d1"});
  bank.evaluate(m, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kCleared);
  EXPECT_EQ(out[0].detector, "hot.stale");
  EXPECT_EQ(out[0].severity, "critical");
}

}  // namespace
}  // namespace foggate::routing
