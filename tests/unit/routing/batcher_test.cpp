#include "foggate/routing/batcher.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

std::shared_ptr<const Message> msg(std::string payload) {
  auto m = std::make_shared<Message>();
  m->topic = "t";
  m->payload = std::move(payload);
  return m;
}

TEST(BatcherTest, SealsOnCountBytesAndTick) {
  std::array<BatchLimits, kPriorityCount> lim = Batcher::default_limits();
  lim[index_of(Priority::kNormal)] = {.max_messages = 3, .max_raw_bytes = 1000};
  lim[index_of(Priority::kLow)] = {.max_messages = 100, .max_raw_bytes = 10};
  Batcher b(lim);
  std::vector<SealedBatch> sealed;
  b.add(msg("a"), Priority::kNormal, 0, sealed);
  b.add(msg("b"), Priority::kNormal, 0, sealed);
  EXPECT_TRUE(sealed.empty());
  b.add(msg("c"), Priority::kNormal, 0, sealed);
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(sealed[0].messages.size(), 3u);
  EXPECT_EQ(sealed[0].raw_bytes, 6u);

  b.add(msg("12345678"), Priority::kLow, 0, sealed);  // 9 bytes: open
  EXPECT_EQ(sealed.size(), 1u);
  b.add(msg("x"), Priority::kLow, 1, sealed);  // 11 bytes: sealed
  ASSERT_EQ(sealed.size(), 2u);
  EXPECT_EQ(sealed[1].priority, Priority::kLow);
  EXPECT_EQ(sealed[1].flags, (std::vector<uint32_t>{0, 1}));

  b.add(msg("h"), Priority::kHigh, 0, sealed);
  EXPECT_EQ(b.open_messages(), 1u);
  b.seal_all(sealed);
  ASSERT_EQ(sealed.size(), 3u);
  EXPECT_EQ(sealed[2].priority, Priority::kHigh);
  EXPECT_EQ(b.open_messages(), 0u);
}

TEST(BatcherTest, CriticalSealsAtOnce) {
  Batcher b;
  std::vector<SealedBatch> sealed;
  b.add(msg("fire"), Priority::kCritical, 0, sealed);
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(sealed[0].priority, Priority::kCritical);
}

}  // namespace
}  // namespace foggate::routing
