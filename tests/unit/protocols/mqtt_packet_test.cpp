// The MQTT packet parser on whole packets: CONNACK, PUBLISH, SUBACK,
// UNSUBACK, PUBACK, DISCONNECT, PINGRESP. Finding packets in a stream:
// mqtt_packet_split_test.cpp.
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

// ---- CONNACK -----------------------------------------------------------------

TEST(MqttPacketConnackTest, V311) {
  const std::string accepted = bytes({0x20, 2, 0x01, 0});
  auto c = parse_connack(MqttVersion::kV311, view_of(accepted));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_TRUE(c->session_present);
  EXPECT_EQ(c->reason, 0);
  EXPECT_EQ(c->receive_maximum, 65535);

  const std::string refused = bytes({0x20, 2, 0, 4});
  auto r = parse_connack(MqttVersion::kV311, view_of(refused));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, 4);
  EXPECT_EQ(connack_reason_text(MqttVersion::kV311, r->reason), "bad user name or password (return code 4)");
}

TEST(MqttPacketConnackTest, V311Faults) {
  const std::vector<std::pair<std::string, std::string>> faults{
      {bytes({0x20, 2, 0x02, 0}), "reserved bits"},
      {bytes({0x20, 2, 0x01, 5}), "session is present"},
      {bytes({0x20, 2, 0, 6}), "return code 6"},
      {bytes({0x20, 3, 0, 0, 0}), "MQTT 3.1.1's is 2"},
      {bytes({0x20, 1, 0}), "MQTT 3.1.1's is 2"},
  };
  for (const auto& [wire, words] : faults) expect_fault(parse_connack(MqttVersion::kV311, view_of(wire)), words);
}

TEST(MqttPacketConnackTest, V5ReadsWhatTheConnectionActsOn) {
  const std::string properties = bytes({0x21, 0, 20}) + bytes({0x27, 0, 0, 0x10, 0}) + bytes({0x24, 1}) +
                                 bytes({0x13, 0, 60}) + bytes({0x12}) + field("abc") + bytes({0x1F}) + field("ok") +
                                 // skipped: Retain Available, a User Property (twice), Topic
                                 // Alias Maximum, Shared Subscription Available, Session Expiry
                                 bytes({0x25, 1, 0x26}) + field("k") + field("v") + bytes({0x26}) + field("k") +
                                 field("w") + bytes({0x22, 0, 5, 0x2A, 0, 0x11, 0, 0, 0, 9});
  const std::string wire = frame(0x20, bytes({0, 0}) + props(properties));
  auto c = parse_connack(MqttVersion::kV5, view_of(wire));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_FALSE(c->session_present);
  EXPECT_EQ(c->reason, 0);
  EXPECT_EQ(c->receive_maximum, 20);
  EXPECT_EQ(c->maximum_packet_size, 4096u);
  EXPECT_EQ(c->maximum_qos, 1);
  EXPECT_EQ(c->server_keepalive, std::optional<uint16_t>(60));
  EXPECT_EQ(c->assigned_client_id, "abc");
  EXPECT_EQ(c->reason_string, "ok");
}

TEST(MqttPacketConnackTest, V5Refusal) {
  const std::string wire = frame(0x20, bytes({0, 0x87}) + props(bytes({0x1F}) + field("acl")));
  auto c = parse_connack(MqttVersion::kV5, view_of(wire));
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->reason, 0x87);
  EXPECT_EQ(c->reason_string, "acl");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, c->reason), "not authorized (0x87)");
}

TEST(MqttPacketConnackTest, V5Faults) {
  const auto connack = [](std::string_view properties, int flags = 0, int reason = 0) {
    return frame(0x20, bytes({flags, reason}) + props(properties));
  };
  const std::vector<std::pair<std::string, std::string>> faults{
      {connack(bytes({0x21, 0, 0})), "Receive Maximum (0x21) is 0"},
      {connack(bytes({0x21, 0, 5, 0x21, 0, 6})), "Receive Maximum (0x21) appears twice"},
      {connack(bytes({0x27, 0, 0, 0, 0})), "Maximum Packet Size (0x27) is 0"},
      {connack(bytes({0x24, 2})), "Maximum QoS (0x24) is 2"},
      {connack(bytes({0x23, 0, 1})), "Topic Alias (0x23) is not allowed"},
      {connack(bytes({0x17, 1})), "Request Problem Information (0x17) is not allowed"},
      {connack(bytes({0x01, 1})), "Payload Format Indicator (0x01) is not allowed"},
      {connack(bytes({0x7F, 1})), "unknown property id 0x7F"},
      {connack(bytes({0x80, 0x01})), "unknown property id 0x80"},  // a 2-byte id: 128
      {connack(bytes({0x21, 0})), "needs 2 bytes, 1 left"},
      {connack(bytes({0x12, 0, 1, 0xFF})), "not valid UTF-8"},
      {connack({}, 1, 0x87), "session is present"},
      {connack({}, 0, 0x05), "not a CONNACK code"},
      {connack({}, 0x80), "reserved bits"},
  };
  for (const auto& [wire, words] : faults) expect_fault(parse_connack(MqttVersion::kV5, view_of(wire)), words);
  // A byte after the properties; a property length past the body.
  expect_fault(parse_connack(MqttVersion::kV5, view_of(frame(0x20, bytes({0, 0, 0, 7})))), "after its last field");
  expect_fault(parse_connack(MqttVersion::kV5, view_of(frame(0x20, bytes({0, 0, 5, 0x24})))), "property block");
  // A 3.1.1 broker's answer to a version 5 CONNECT.
  expect_fault(parse_connack(MqttVersion::kV5, view_of(bytes({0x20, 2, 0, 1}))),
               "unacceptable protocol version (return code 1)");
}

TEST(MqttPacketConnackTest, ReasonTexts) {
  EXPECT_EQ(connack_reason_text(MqttVersion::kV311, 0), "connection accepted (return code 0)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV311, 5), "not authorized (return code 5)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV311, 9), "unknown return code (return code 9)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0), "success (0x00)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0x80), "unspecified error (0x80)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0x84), "unsupported protocol version (0x84)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0x86), "bad user name or password (0x86)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0x8A), "banned (0x8A)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0x9F), "connection rate exceeded (0x9F)");
  EXPECT_EQ(connack_reason_text(MqttVersion::kV5, 0xF0), "unknown reason (0xF0)");
  EXPECT_EQ(suback_code_text(0x01), "granted QoS 1 (0x01)");
  EXPECT_EQ(suback_code_text(0x80), "failure (0x80)");
  EXPECT_EQ(suback_code_text(0x87), "not authorized (0x87)");
  EXPECT_EQ(suback_code_text(0xA2), "wildcard subscriptions not supported (0xA2)");
  EXPECT_EQ(suback_code_text(0x05), "unknown code (0x05)");
}

// ---- PUBLISH -----------------------------------------------------------------

TEST(MqttPacketPublishTest, V311QoS0AndQoS1) {
  const std::string qos0 = frame(0x31, field("a/b") + "hello");
  auto m = parse_publish(MqttVersion::kV311, view_of(qos0));
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->topic, "a/b");
  EXPECT_EQ(m->payload, "hello");
  EXPECT_EQ(m->qos, 0);
  EXPECT_TRUE(m->retain);
  EXPECT_FALSE(m->dup);
  EXPECT_EQ(m->packet_id, 0);

  const std::string qos1 = frame(0x3A, field("a/b") + bytes({0x01, 0x07}));
  auto m1 = parse_publish(MqttVersion::kV311, view_of(qos1));
  ASSERT_TRUE(m1) << m1.error().detail;
  EXPECT_EQ(m1->qos, 1);
  EXPECT_TRUE(m1->dup);
  EXPECT_FALSE(m1->retain);
  EXPECT_EQ(m1->packet_id, 0x0107);
  EXPECT_TRUE(m1->payload.empty());
}

TEST(MqttPacketPublishTest, RoundTripWithTwoByteRemainingLength) {
  const std::string payload(300, '\xA5');
  const std::string body = field("sensors/d1/temp") + bytes({0, 42}) + payload;  // 17 + 2 + 300 = 319
  const std::string wire = bytes({0x32, 0xBF, 0x02}) + body;                       // 319 = 63 + 2 * 128
  auto m = parse_publish(MqttVersion::kV311, view_of(wire));
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->topic, "sensors/d1/temp");
  EXPECT_EQ(m->packet_id, 42);
  EXPECT_EQ(m->payload, payload);
}

TEST(MqttPacketPublishTest, V5PropertiesAreReadAndSkipped) {
  const std::string properties = bytes({0x01, 1, 0x02, 0, 0, 0, 60, 0x03}) + field("json") + bytes({0x08}) +
                                 field("reply/to") + bytes({0x09}) + field("\x01\x02") + bytes({0x26}) +
                                 field("k") + field("v") + bytes({0x0B, 5, 0x0B, 0x81, 0x01});
  const std::string wire = frame(0x32, field("t") + bytes({0, 3}) + props(properties) + "{\"v\":1}");
  auto m = parse_publish(MqttVersion::kV5, view_of(wire));
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->topic, "t");
  EXPECT_EQ(m->packet_id, 3);
  EXPECT_EQ(m->payload, "{\"v\":1}");
  // The same bytes read as 3.1.1 take the property block for payload.
  auto as_v311 = parse_publish(MqttVersion::kV311, view_of(wire));
  ASSERT_TRUE(as_v311);
  EXPECT_EQ(as_v311->payload.size(), properties.size() + 1 + 7);
}

TEST(MqttPacketPublishTest, V5PropertyFaults) {
  const auto publish = [](std::string_view properties) { return frame(0x30, field("t") + props(properties)); };
  const std::vector<std::pair<std::string, std::string>> faults{
      {publish(bytes({0x23, 0, 1})), "Topic Alias 1, and foggate allows none"},
      {publish(bytes({0x23, 0, 0})), "Topic Alias (0x23) is 0"},
      {publish(bytes({0x01, 1, 0x01, 0})), "Payload Format Indicator (0x01) appears twice"},
      {publish(bytes({0x01, 2})), "Payload Format Indicator (0x01) is 2"},
      {publish(bytes({0x0B, 0})), "Subscription Identifier (0x0B) is 0"},
      {publish(bytes({0x0B, 0xFF, 0xFF, 0xFF, 0xFF})), "longer than 4 bytes"},
      {publish(bytes({0x11, 0, 0, 0, 1})), "Session Expiry Interval (0x11) is not allowed"},
      {publish(bytes({0x1F}) + field("why")), "Reason String (0x1F) is not allowed"},
      {publish(bytes({0x03, 0, 2, 'a', 0})), "U+0000"},
      {frame(0x30, field("t")), "property length"},
  };
  for (const auto& [wire, words] : faults) expect_fault(parse_publish(MqttVersion::kV5, view_of(wire)), words);
}

TEST(MqttPacketPublishTest, TopicFaults) {
  const std::vector<std::pair<std::string, std::string>> faults{
      {"t/\xC0\xAF", "not valid UTF-8 at byte 2"},      // overlong '/'
      {"\xE0\x80\xAF", "not valid UTF-8 at byte 0"},    // overlong, 3 bytes
      {"a\xED\xA0\x80", "not valid UTF-8 at byte 1"},   // surrogate U+D800
      {"\xF4\x90\x80\x80", "not valid UTF-8"},          // above U+10FFFF
      {"ab\xE2\x82", "not valid UTF-8 at byte 2"},      // truncated sequence
      {"\x80", "not valid UTF-8"},                      // lone continuation byte
      {std::string("a\0b", 3), "U+0000 at byte 1"},
      {"", "topic is empty"},
      {"a/+/c", "wildcard"},
      {"a/#", "wildcard"},
      {"#", "wildcard"},
  };
  for (const auto& [topic, words] : faults)
    for (auto v : {MqttVersion::kV311, MqttVersion::kV5})
      expect_fault(parse_publish(v, view_of(frame(0x30, field(topic) + bytes({0})))), words);

  const std::string good = frame(0x30, field("t/\xC3\xA9/\xF0\x9F\x98\x80") + "x");
  auto m = parse_publish(MqttVersion::kV311, view_of(good));
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->topic, "t/\xC3\xA9/\xF0\x9F\x98\x80");
  // A topic length that runs past the packet.
  expect_fault(parse_publish(MqttVersion::kV311, view_of(frame(0x30, bytes({0, 9, 'a'})))), "needs 9 bytes, 1 left");
}

TEST(MqttPacketPublishTest, QoS1PacketIdZero) {
  for (auto v : {MqttVersion::kV311, MqttVersion::kV5})
    expect_fault(parse_publish(v, view_of(frame(0x32, field("t") + bytes({0, 0, 0})))), "PUBLISH packet id is 0");
}

TEST(MqttPacketPublishTest, OversizedPrefix) {
  const std::string wire = frame(0x32, field("a/b") + bytes({0, 8}) + props(bytes({0x01, 1})) + std::string(40, 'p'));
  const WireLimits limits{20};
  PacketView p;
  // Prefix: topic, packet id, the whole property block and 3 payload bytes.
  auto r = split_packet(std::string_view(wire).substr(0, 2 + 5 + 2 + 3 + 3), limits, p);
  ASSERT_TRUE(r && *r == SplitStatus::kOversized);
  auto m = parse_publish(MqttVersion::kV5, p);
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->topic, "a/b");
  EXPECT_EQ(m->packet_id, 8);
  EXPECT_EQ(m->payload, "ppp");
  // Prefix ending inside the property block: topic and id, payload empty.
  r = split_packet(std::string_view(wire).substr(0, 2 + 5 + 2 + 2), limits, p);
  ASSERT_TRUE(r && *r == SplitStatus::kOversized);
  m = parse_publish(MqttVersion::kV5, p);
  ASSERT_TRUE(m) << m.error().detail;
  EXPECT_EQ(m->packet_id, 8);
  EXPECT_TRUE(m->payload.empty());
  // Prefix ending inside the packet id: nothing to act on.
  r = split_packet(std::string_view(wire).substr(0, 2 + 5 + 1), limits, p);
  ASSERT_TRUE(r && *r == SplitStatus::kOversized);
  expect_fault(parse_publish(MqttVersion::kV5, p), "PUBLISH packet id");
}

// ---- SUBACK, UNSUBACK, DISCONNECT, PINGRESP --------------------------------------

TEST(MqttPacketSubackTest, BothVersions) {
  auto s = parse_suback(MqttVersion::kV311, view_of(frame(0x90, bytes({0, 1, 1}))));
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->packet_id, 1);
  EXPECT_EQ(s->codes, std::vector<uint8_t>{1});

  const std::string v5 = frame(0x90, bytes({0, 2}) + props(bytes({0x1F}) + field("no") + bytes({0x26}) +
                                                           field("k") + field("v")) + bytes({0x87}));
  auto refused = parse_suback(MqttVersion::kV5, view_of(v5));
  ASSERT_TRUE(refused) << refused.error().detail;
  EXPECT_EQ(refused->packet_id, 2);
  EXPECT_EQ(refused->codes, std::vector<uint8_t>{0x87});
  EXPECT_EQ(refused->reason_string, "no");
}

TEST(MqttPacketSubackTest, Faults) {
  expect_fault(parse_suback(MqttVersion::kV311, view_of(frame(0x90, bytes({0, 1, 0x87})))), "code 0x87");
  expect_fault(parse_suback(MqttVersion::kV311, view_of(frame(0x90, bytes({0, 1, 3})))), "code 0x03");
  expect_fault(parse_suback(MqttVersion::kV311, view_of(frame(0x90, bytes({0, 1})))), "holds no codes");
  expect_fault(parse_suback(MqttVersion::kV311, view_of(frame(0x90, bytes({0, 0, 0})))), "SUBACK packet id is 0");
  expect_fault(parse_suback(MqttVersion::kV5, view_of(frame(0x90, bytes({0, 1, 0})))), "holds no codes");
  expect_fault(parse_suback(MqttVersion::kV5, view_of(frame(0x90, bytes({0, 1, 3, 0x12, 0, 0, 0})))),
               "Assigned Client Identifier (0x12) is not allowed");
}

TEST(MqttPacketUnsubackTest, BothVersions) {
  auto u = parse_unsuback(MqttVersion::kV311, view_of(frame(0xB0, bytes({0, 5}))));
  ASSERT_TRUE(u) << u.error().detail;
  EXPECT_EQ(u->packet_id, 5);
  expect_fault(parse_unsuback(MqttVersion::kV311, view_of(frame(0xB0, bytes({0, 5, 0})))), "MQTT 3.1.1's is 2");

  for (int code : {0x00, 0x11, 0x87}) {
    auto v5 = parse_unsuback(MqttVersion::kV5, view_of(frame(0xB0, bytes({0, 6, 0, code}))));
    ASSERT_TRUE(v5) << v5.error().detail;
    EXPECT_EQ(v5->packet_id, 6);
  }
  expect_fault(parse_unsuback(MqttVersion::kV5, view_of(frame(0xB0, bytes({0, 6, 0})))), "holds no codes");
  expect_fault(parse_unsuback(MqttVersion::kV5, view_of(frame(0xB0, bytes({0, 6, 0, 0x02})))), "code 0x02");
}

TEST(MqttPacketPubackTest, BothVersionsAndTheirShortForms) {
  auto a = parse_puback(MqttVersion::kV311, view_of(bytes({0x40, 2, 0, 9})));
  ASSERT_TRUE(a) << a.error().detail;
  EXPECT_EQ(a->packet_id, 9);
  EXPECT_EQ(a->reason, 0);
  expect_fault(parse_puback(MqttVersion::kV311, view_of(bytes({0x40, 3, 0, 9, 0}))), "MQTT 3.1.1's is 2");

  auto short5 = parse_puback(MqttVersion::kV5, view_of(bytes({0x40, 2, 0, 9})));
  ASSERT_TRUE(short5) << short5.error().detail;
  EXPECT_EQ(short5->reason, 0);
  auto refused = parse_puback(MqttVersion::kV5, view_of(bytes({0x40, 3, 0, 9, 0x87})));
  ASSERT_TRUE(refused) << refused.error().detail;
  EXPECT_EQ(refused->reason, 0x87);
  auto said = parse_puback(MqttVersion::kV5, view_of(frame(0x40, bytes({0, 9, 0x10}) + props(bytes({0x1F}) + field("none")))));
  ASSERT_TRUE(said) << said.error().detail;
  EXPECT_EQ(said->reason, 0x10);
  EXPECT_EQ(said->reason_string, "none");

  expect_fault(parse_puback(MqttVersion::kV5, view_of(bytes({0x40, 3, 0, 9, 0x02}))), "code 0x02");
  expect_fault(parse_puback(MqttVersion::kV5, view_of(bytes({0x40, 2, 0, 0}))), "PUBACK packet id is 0");
  expect_fault(parse_puback(MqttVersion::kV5, view_of(frame(0x40, bytes({0, 9, 0}) + props(bytes({0x11, 0, 0, 0, 0}))))),
               "Session Expiry Interval (0x11) is not allowed");
}

TEST(MqttPacketDisconnectTest, V5FormsAndV311Refusal) {
  const std::string empty = bytes({0xE0, 0});
  expect_fault(parse_disconnect(MqttVersion::kV311, view_of(empty)), "MQTT 3.1.1");
  auto normal = parse_disconnect(MqttVersion::kV5, view_of(empty));
  ASSERT_TRUE(normal);
  EXPECT_EQ(normal->reason, 0);

  auto bare = parse_disconnect(MqttVersion::kV5, view_of(bytes({0xE0, 1, 0x8E})));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->reason, 0x8E);

  const std::string full = frame(0xE0, bytes({0x9C}) + props(bytes({0x1F}) + field("bye") + bytes({0x1C}) + field("b2")));
  auto moved = parse_disconnect(MqttVersion::kV5, view_of(full));
  ASSERT_TRUE(moved) << moved.error().detail;
  EXPECT_EQ(moved->reason, 0x9C);
  EXPECT_EQ(moved->reason_string, "bye");

  expect_fault(parse_disconnect(MqttVersion::kV5, view_of(frame(0xE0, bytes({0x8B}) + props(bytes({0x11, 0, 0, 0, 0}))))),
               "Session Expiry Interval (0x11) is not allowed");
}

TEST(MqttPacketPingrespTest, EmptyBodyOnly) {
  EXPECT_TRUE(check_pingresp(view_of(bytes({0xD0, 0}))).has_value());
  expect_fault(check_pingresp(view_of(bytes({0xD0, 1, 0}))), "must have none");
  expect_fault(check_pingresp(view_of(bytes({0x20, 2, 0, 0}))), "expected PINGRESP, got CONNACK");
}

TEST(MqttPacketParseTest, ParserChecksTheType) {
  const std::string suback = frame(0x90, bytes({0, 1, 0}));
  expect_fault(parse_publish(MqttVersion::kV5, view_of(suback)), "expected PUBLISH, got SUBACK");
  expect_fault(parse_connack(MqttVersion::kV5, view_of(suback)), "expected CONNACK, got SUBACK");
  expect_fault(parse_disconnect(MqttVersion::kV5, view_of(suback)), "expected DISCONNECT, got SUBACK");
}

}  // namespace
}  // namespace foggate::protocols
