// The ingest connection's receive buffer (packet_buffer.h, private to
// mqtt_ingest): whatever is committed and not yet consumed stays readable,
// in order, through compaction (the rest moved to the front) and growth.
#include "packet_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace foggate::protocols {
namespace {

// Reads `text` into the buffer the way the connection does: tail, then commit.
void receive(PacketBuffer& b, const std::string& text, std::size_t reserve) {
  ASSERT_GE(reserve, text.size());
  char* at = b.tail(reserve);
  ASSERT_GE(b.tail_size(), reserve);
  std::memcpy(at, text.data(), text.size());
  b.commit(text.size());
}

TEST(PacketBufferTest, ConsumeKeepsTheRestAndEmptyingStartsOver) {
  PacketBuffer b;
  receive(b, "abcdef", 16);
  EXPECT_EQ(b.data(), "abcdef");
  b.consume(2);
  EXPECT_EQ(b.data(), "cdef");
  EXPECT_EQ(b.size(), 4u);
  b.consume(4);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.tail_size(), 16u) << "an empty buffer reads from its start again";
}

TEST(PacketBufferTest, CompactionMovesTheUnreadRestToTheFront) {
  PacketBuffer b;
  receive(b, "0123456789", 10);  // full: no free tail
  b.consume(7);
  // 3 unread bytes; asking for 6 free ones fits once "789" moves to the front.
  receive(b, "ABCDEF", 6);
  EXPECT_EQ(b.data(), "789ABCDEF");
  EXPECT_EQ(b.tail_size(), 1u) << "compacted in place, not grown";
}

TEST(PacketBufferTest, GrowthKeepsTheUnreadBytes) {
  PacketBuffer b;
  receive(b, "head-", 8);
  b.consume(1);
  const std::string big(100'000, 'x');
  receive(b, big, big.size());
  EXPECT_EQ(b.size(), 4 + big.size());
  EXPECT_EQ(b.data().substr(0, 5), "ead-x");
  EXPECT_EQ(b.data().substr(b.size() - 3), "xxx");
}

TEST(PacketBufferTest, PartlyConsumedBufferSurvivesManyReads) {
  // Packets of 5 bytes arrive in chunks of 7: a packet often straddles two
  // reads, and the unread part is compacted again and again.
  PacketBuffer b;
  std::string sent, parsed;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk;
    for (int k = 0; k < 7; ++k) chunk.push_back(static_cast<char>('a' + (i * 7 + k) % 26));
    receive(b, chunk, 32);
    sent += chunk;
    while (b.size() >= 5) {
      parsed += b.data().substr(0, 5);
      b.consume(5);
    }
  }
  parsed += b.data();
  EXPECT_EQ(parsed, sent);
  EXPECT_LE(b.tail_size() + b.size(), 64u) << "steady reads must not keep growing the buffer";
}

TEST(PacketBufferTest, ClearDropsEverything) {
  PacketBuffer b;
  receive(b, "left over", 16);
  b.consume(3);
  b.clear();
  EXPECT_EQ(b.size(), 0u);
  receive(b, "new", 4);
  EXPECT_EQ(b.data(), "new");
}

}  // namespace
}  // namespace foggate::protocols
