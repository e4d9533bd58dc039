// split_packet: finding whole packets in a byte stream, at every byte
// boundary, with remaining lengths of one to four bytes, over the size
// limit, and the packet types and flags a client must never receive.
#include "foggate/protocols/mqtt_packet.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "mqtt_wire_bytes.h"

// Golden bytes are hand-computed from the OASIS specs (MQTT 3.1.1 and 5.0);
// each comment says how a length was counted.
namespace foggate::protocols {
namespace {

using namespace wire_test;

TEST(MqttPacketSplitTest, EveryByteBoundaryOfSeveralPackets) {
  const std::string stream =
      frame(0x20, bytes({0, 0}) + props(bytes({0x21, 0, 5}))) +                      // CONNACK v5
      frame(0x32, field("t/1") + bytes({0, 9}) + props(bytes({0x01, 1})) + "{}") +  // PUBLISH QoS 1
      frame(0x90, bytes({0, 9, 0}) + bytes({1})) +                                  // SUBACK v5
      bytes({0xD0, 0}) +                                                            // PINGRESP
      bytes({0x30, 0x82, 0x01}) + field("t/2") + std::string(130 - 5, 'p') +        // 2-byte length
      bytes({0xE0, 0});                                                             // DISCONNECT
  const std::vector<std::size_t> totals{8, 14, 6, 2, 133, 2};

  std::size_t start = 0;
  for (std::size_t total : totals) {
    for (std::size_t end = start; end < start + total; ++end) {
      PacketView p;
      auto r = split_packet(std::string_view(stream).substr(start, end - start), {}, p);
      ASSERT_TRUE(r) << r.error().detail;
      EXPECT_EQ(*r, SplitStatus::kNeedMore) << "packet at " << start << ", " << end - start << " bytes";
    }
    PacketView p;
    auto r = split_packet(std::string_view(stream).substr(start), {}, p);
    ASSERT_TRUE(r) << r.error().detail;
    ASSERT_EQ(*r, SplitStatus::kPacket);
    EXPECT_EQ(p.total, total);
    EXPECT_EQ(p.body.size(), p.remaining_length);
    EXPECT_EQ(p.body.data() + p.body.size(), stream.data() + start + total);
    start += total;
  }
  EXPECT_EQ(start, stream.size());
}

TEST(MqttPacketSplitTest, RemainingLengthOneToFourBytes) {
  struct Case {
    std::string header;
    uint32_t remaining;
  };
  const std::vector<Case> cases{
      {bytes({0x30, 0x00}), 0},
      {bytes({0x30, 0x7F}), 127},
      {bytes({0x30, 0x80, 0x01}), 128},
      {bytes({0x30, 0xFF, 0x7F}), 16'383},
      {bytes({0x30, 0x80, 0x80, 0x01}), 16'384},
      {bytes({0x30, 0xFF, 0xFF, 0x7F}), 2'097'151},
      {bytes({0x30, 0x80, 0x80, 0x80, 0x01}), 2'097'152},
      {bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), 268'435'455},
      {bytes({0x30, 0x80, 0x00}), 0},  // not minimal, still accepted
  };
  for (const auto& c : cases) {
    // A limit below every packet makes the header alone enough to answer.
    PacketView p;
    auto r = split_packet(c.header, WireLimits{1}, p);
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(*r, SplitStatus::kOversized);
    EXPECT_EQ(p.remaining_length, c.remaining);
    EXPECT_EQ(p.total, c.header.size() + c.remaining);
    EXPECT_TRUE(p.body.empty());
    // With room for it, the header alone asks for the body.
    if (c.remaining > 0) {
      auto more = split_packet(c.header, WireLimits{UINT32_MAX}, p);
      ASSERT_TRUE(more);
      EXPECT_EQ(*more, SplitStatus::kNeedMore);
    }
  }
}

TEST(MqttPacketSplitTest, FifthLengthByteIsMalformed) {
  PacketView p;
  auto three = split_packet(bytes({0x30, 0xFF, 0xFF, 0xFF}), {}, p);
  ASSERT_TRUE(three);
  EXPECT_EQ(*three, SplitStatus::kNeedMore);
  // The 4th byte's continuation bit decides, before any 5th arrives.
  expect_fault(split_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF}), {}, p), "longer than 4 bytes");
  expect_fault(split_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), {}, p), "longer than 4 bytes");
}

TEST(MqttPacketSplitTest, OversizedReportsSizeAndWhatIsPresent) {
  const std::string publish = frame(0x30, field("a/b") + std::string(15, 'p'));  // total 22
  PacketView p;
  auto whole = split_packet(publish, WireLimits{21}, p);
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, SplitStatus::kOversized);
  EXPECT_EQ(p.type, PacketType::kPublish);
  EXPECT_EQ(p.total, 22u);
  EXPECT_EQ(p.body.size(), 20u);

  auto part = split_packet(std::string_view(publish).substr(0, 5), WireLimits{21}, p);
  ASSERT_TRUE(part);
  EXPECT_EQ(*part, SplitStatus::kOversized);
  EXPECT_EQ(p.total, 22u);
  EXPECT_EQ(p.remaining_length, 20u);
  EXPECT_EQ(p.body, publish.substr(2, 3));

  auto at_limit = split_packet(publish, WireLimits{22}, p);
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(*at_limit, SplitStatus::kPacket);
}

TEST(MqttPacketSplitTest, TypesAClientNeverReceives) {
  const std::vector<std::pair<int, std::string>> refused{
      {0x00, "reserved"},  {0x10, "CONNECT"}, {0x50, "PUBREC"}, {0x62, "PUBREL"}, {0x70, "PUBCOMP"},
      {0x82, "SUBSCRIBE"}, {0xA2, "UNSUBSCRIBE"}, {0xC0, "PINGREQ"}, {0xF0, "AUTH"},
  };
  for (const auto& [first, name] : refused) {
    PacketView p;
    // The first byte alone is enough to refuse.
    expect_fault(split_packet(bytes({first}), {}, p), name);
    expect_fault(split_packet(bytes({first, 0}), {}, p), name);
  }
}

TEST(MqttPacketSplitTest, FixedHeaderFlags) {
  for (int first : {0x21, 0x41, 0x92, 0xB4, 0xD8, 0xE1}) {
    PacketView p;
    expect_fault(split_packet(bytes({first, 0}), {}, p), "must be 0");
  }
  PacketView p;
  expect_fault(split_packet(bytes({0x36, 0}), {}, p), "QoS 3");
  expect_fault(split_packet(bytes({0x34, 0}), {}, p), "QoS 2");
  expect_fault(split_packet(bytes({0x38, 0}), {}, p), "DUP set at QoS 0");
  for (int first : {0x30, 0x31, 0x32, 0x33, 0x3A, 0x3B}) {
    auto r = split_packet(bytes({first, 0}), {}, p);
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(p.flags, first & 0x0F);
  }
}

TEST(MqttPacketSplitTest, EmptyBufferNeedsMore) {
  PacketView p;
  auto r = split_packet({}, {}, p);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SplitStatus::kNeedMore);
}

TEST(MqttPacketSplitTest, FedOneByteAtATimeFindsWhatOneShotFinds) {
  const std::string stream = frame(0x90, bytes({0, 1, 0})) + frame(0x30, field("a") + "xyz") + bytes({0xD0, 0}) +
                             frame(0xB0, bytes({0, 1}));
  std::vector<std::pair<PacketType, std::string>> one_shot, trickled;
  for (std::string_view rest = stream; !rest.empty();) {
    PacketView p;
    auto r = split_packet(rest, {}, p);
    ASSERT_TRUE(r && *r == SplitStatus::kPacket);
    one_shot.emplace_back(p.type, std::string(p.body));
    rest.remove_prefix(p.total);
  }
  std::string pending;
  for (char c : stream) {
    pending.push_back(c);
    PacketView p;
    auto r = split_packet(pending, {}, p);
    ASSERT_TRUE(r);
    if (*r == SplitStatus::kNeedMore) continue;
    ASSERT_EQ(*r, SplitStatus::kPacket);
    trickled.emplace_back(p.type, std::string(p.body));
    pending.erase(0, p.total);
  }
  EXPECT_TRUE(pending.empty());
  ASSERT_EQ(one_shot.size(), 4u);
  EXPECT_EQ(trickled, one_shot);
}

}  // namespace
}  // namespace foggate::protocols
