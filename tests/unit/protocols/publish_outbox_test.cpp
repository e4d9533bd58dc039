// PublishOutbox (private header of mqtt_ingest): bounded, in order, at
// most the broker's Receive Maximum in flight, and resends with DUP.
#include "publish_outbox.h"

#include <gtest/gtest.h>

#include <vector>

namespace foggate::protocols {
namespace {

constexpr std::size_t kAnyOut = 1 << 20;  // a send buffer bound no test reaches

// The PUBLISH packets in `wire`, parsed.
std::vector<Publish> publishes(const std::string& wire) {
  std::vector<Publish> out;
  std::string_view rest = wire;
  while (!rest.empty()) {
    PacketView p;
    auto split = split_packet(rest, WireLimits{}, p);
    if (!split || *split != SplitStatus::kPacket) {
      ADD_FAILURE() << "not a whole packet";
      break;
    }
    auto pub = parse_publish(MqttVersion::kV5, p);
    if (!pub) {
      ADD_FAILURE() << pub.error().detail;
      break;
    }
    out.push_back(*pub);
    rest.remove_prefix(p.total);
  }
  return out;
}

TEST(PublishOutboxTest, RefusesOverTheLimitCountingWhatIsInFlight) {
  PublishOutbox box(2);
  EXPECT_TRUE(box.push({"a", "1", 1, false}));
  EXPECT_TRUE(box.push({"b", "2", 1, false}));
  EXPECT_FALSE(box.push({"c", "3", 1, false}));
  std::string out;
  uint16_t id = 0;
  EXPECT_EQ(box.drain(MqttVersion::kV5, 10, kAnyOut, [&] { return ++id; }, out), 2u);
  EXPECT_EQ(box.size(), 2u) << "in flight still counts";
  EXPECT_FALSE(box.push({"c", "3", 1, false}));
  EXPECT_TRUE(box.acknowledged(1));
  EXPECT_FALSE(box.acknowledged(1)) << "only once";
  EXPECT_TRUE(box.push({"c", "3", 1, false}));
}

TEST(PublishOutboxTest, ReceiveMaximumHoldsTheRestInOrder) {
  PublishOutbox box(10);
  for (const char* t : {"a", "b", "c"}) ASSERT_TRUE(box.push({t, "x", 1, false}));
  ASSERT_TRUE(box.push({"d", "x", 0, false}));
  std::string out;
  uint16_t id = 0;
  EXPECT_EQ(box.drain(MqttVersion::kV5, 2, kAnyOut, [&] { return ++id; }, out), 2u);
  EXPECT_TRUE(box.has_queued());
  EXPECT_EQ(box.drain(MqttVersion::kV5, 2, kAnyOut, [&] { return ++id; }, out), 0u) << "the window is full";
  ASSERT_TRUE(box.acknowledged(1));
  // c goes, and the QoS 0 d behind it, in the order they came.
  EXPECT_EQ(box.drain(MqttVersion::kV5, 2, kAnyOut, [&] { return ++id; }, out), 2u);
  EXPECT_FALSE(box.has_queued());
  const auto sent = publishes(out);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[2].topic, "c");
  EXPECT_EQ(sent[2].packet_id, 3);
  EXPECT_EQ(sent[3].topic, "d");
  EXPECT_EQ(sent[3].qos, 0);
  EXPECT_EQ(box.in_flight_count(), 2u);
}

TEST(PublishOutboxTest, ResendRepeatsWhatIsInFlightWithDup) {
  PublishOutbox box(10);
  ASSERT_TRUE(box.push({"a", "1", 1, true}));
  ASSERT_TRUE(box.push({"b", "2", 1, false}));
  std::string out;
  uint16_t id = 40;
  box.drain(MqttVersion::kV5, 10, kAnyOut, [&] { return ++id; }, out);
  ASSERT_TRUE(box.acknowledged(41));
  out.clear();
  EXPECT_EQ(box.resend(MqttVersion::kV5, out), 1u);
  const auto again = publishes(out);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].topic, "b");
  EXPECT_EQ(again[0].packet_id, 42);
  EXPECT_TRUE(again[0].dup);
  EXPECT_TRUE(box.in_flight(42));
  EXPECT_EQ(box.discard_queued(), 0u) << "in flight is not queued";
}

// A send buffer already holding `max_out` bytes (a broker that stopped
// reading) takes nothing more: the rest waits in the bounded queue.
TEST(PublishOutboxTest, DrainStopsWhenTheSendBufferHoldsMaxOut) {
  PublishOutbox box(10);
  for (const char* t : {"a", "b", "c"}) ASSERT_TRUE(box.push({t, std::string(100, 'x'), 0, false}));
  std::string out;
  uint16_t id = 0;
  EXPECT_EQ(box.drain(MqttVersion::kV5, 10, 150, [&] { return ++id; }, out), 2u) << "stops once out holds 150";
  EXPECT_TRUE(box.has_queued());
  EXPECT_EQ(box.size(), 1u);
  out.clear();  // written
  EXPECT_EQ(box.drain(MqttVersion::kV5, 10, 150, [&] { return ++id; }, out), 1u);
  EXPECT_FALSE(box.has_queued());
}

}  // namespace
}  // namespace foggate::protocols
