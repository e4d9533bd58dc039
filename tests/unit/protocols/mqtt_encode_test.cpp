#include "foggate/protocols/mqtt_packet.h"

#include <gtest/gtest.h>

#include <string>

#include "mqtt_wire_bytes.h"

// What this client writes: golden bytes hand-computed from the OASIS specs
// (MQTT 3.1.1 and 5.0); each comment says how a length was counted.
namespace foggate::protocols {
namespace {

using namespace wire_test;

// ---- encoders --------------------------------------------------------------

TEST(MqttPacketEncodeTest, ConnectV311WithCredentials) {
  ConnectFields c;
  c.version = MqttVersion::kV311;
  c.client_id = "fg";
  c.clean_start = true;
  c.username = "u";
  c.password = "pw";
  std::string out;
  encode_connect(c, out);
  // 10 variable header ("MQTT" 6, level, flags, keepalive 2) + 4 + 3 + 4 = 21.
  EXPECT_EQ(out, bytes({0x10, 21, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xC2, 0, 30,  //
                        0, 2, 'f', 'g', 0, 1, 'u', 0, 2, 'p', 'w'}));
}

TEST(MqttPacketEncodeTest, ConnectV311PasswordAloneGetsEmptyUserName) {
  ConnectFields c;
  c.version = MqttVersion::kV311;
  c.client_id = "fg";
  c.password = "pw";
  std::string out;
  encode_connect(c, out);
  EXPECT_EQ(out, bytes({0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xC0, 0, 30,  //
                        0, 2, 'f', 'g', 0, 0, 0, 2, 'p', 'w'}));
}

// Receive Maximum goes out even at its default 65535: without it mosquitto
// 2.0 caps the in-flight window at its own max_inflight_messages.
TEST(MqttPacketEncodeTest, ConnectV5DefaultsSendOnlyReceiveMaximum) {
  ConnectFields c;
  c.client_id = "fg";
  c.clean_start = true;
  std::string out;
  encode_connect(c, out);
  EXPECT_EQ(out, bytes({0x10, 18, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 30, 3, 0x21, 0xFF, 0xFF, 0, 2, 'f', 'g'}));
}

TEST(MqttPacketEncodeTest, ConnectV5WithProperties) {
  ConnectFields c;
  c.client_id = "fg";
  c.keepalive_s = 60;
  c.session_expiry_s = 3600;
  c.receive_maximum = 10;
  c.maximum_packet_size = 65536;
  c.username = "u";
  std::string out;
  encode_connect(c, out);
  // Properties 5 + 3 + 5 = 13; body 6 + 1 + 1 + 2 + 1 + 13 + 4 + 3 = 31.
  EXPECT_EQ(out, bytes({0x10, 31, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x80, 0, 60, 13,  //
                        0x11, 0, 0, 0x0E, 0x10, 0x21, 0, 10, 0x27, 0, 1, 0, 0,  //
                        0, 2, 'f', 'g', 0, 1, 'u'}));
}

// The presence Will: QoS 1, retained, after the client id and before the
// user name.
TEST(MqttPacketEncodeTest, ConnectWithWillBothVersions) {
  ConnectFields c;
  c.version = MqttVersion::kV311;
  c.client_id = "fg";
  c.username = "u";
  c.will = WillFields{"s", "off"};
  std::string out;
  encode_connect(c, out);
  // Flags: user name 0x80, Will retain 0x20, Will QoS 1 0x08, Will 0x04.
  // 10 + 4 + 3 + 5 + 3 = 25.
  EXPECT_EQ(out, bytes({0x10, 25, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xAC, 0, 30,  //
                        0, 2, 'f', 'g', 0, 1, 's', 0, 3, 'o', 'f', 'f', 0, 1, 'u'}));
  out.clear();
  c.version = MqttVersion::kV5;
  c.username.reset();
  c.will->retain = false;
  encode_connect(c, out);
  // 10 + properties 4 + 4 + Will properties 1 + 3 + 5 = 27.
  EXPECT_EQ(out, bytes({0x10, 27, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x0C, 0, 30, 3, 0x21, 0xFF, 0xFF,  //
                        0, 2, 'f', 'g', 0, 0, 1, 's', 0, 3, 'o', 'f', 'f'}));
}

TEST(MqttPacketEncodeTest, PublishQos1BothVersions) {
  std::string out;
  encode_publish(MqttVersion::kV311, {.topic = "a/b", .payload = "on", .packet_id = 7, .retain = true}, out);
  EXPECT_EQ(out, bytes({0x33, 9, 0, 3, 'a', '/', 'b', 0, 7, 'o', 'n'}));
  out.clear();
  encode_publish(MqttVersion::kV5, {.topic = "a/b", .payload = "on", .packet_id = 7}, out);
  EXPECT_EQ(out, bytes({0x32, 10, 0, 3, 'a', '/', 'b', 0, 7, 0, 'o', 'n'}));
  // What a broker would forward of it reads back the same.
  auto p = parse_publish(MqttVersion::kV5, view_of(out));
  ASSERT_TRUE(p) << p.error().detail;
  EXPECT_EQ(p->topic, "a/b");
  EXPECT_EQ(p->payload, "on");
  EXPECT_EQ(p->packet_id, 7);
}

// QoS 0 has no packet id; DUP (0x08) marks a QoS 1 resend.
TEST(MqttPacketEncodeTest, PublishQos0AndDup) {
  std::string out;
  encode_publish(MqttVersion::kV311, {.topic = "a", .payload = "x", .qos = 0}, out);
  EXPECT_EQ(out, bytes({0x30, 4, 0, 1, 'a', 'x'}));
  out.clear();
  encode_publish(MqttVersion::kV5, {.topic = "a", .payload = "x", .qos = 0, .retain = true}, out);
  EXPECT_EQ(out, bytes({0x31, 5, 0, 1, 'a', 0, 'x'}));
  out.clear();
  encode_publish(MqttVersion::kV311, {.topic = "a", .payload = "x", .packet_id = 9, .dup = true}, out);
  EXPECT_EQ(out, bytes({0x3A, 6, 0, 1, 'a', 0, 9, 'x'}));
  auto p = parse_publish(MqttVersion::kV311, view_of(out));
  ASSERT_TRUE(p) << p.error().detail;
  EXPECT_TRUE(p->dup);
  EXPECT_EQ(p->qos, 1);
}

TEST(MqttPacketEncodeTest, LongClientIdTakesTwoRemainingLengthBytes) {
  const std::string id(200, 'x');
  ConnectFields c;
  c.version = MqttVersion::kV311;
  c.client_id = id;
  std::string out;
  encode_connect(c, out);
  // 10 + 2 + 200 = 212 = 0x54 + 1 * 128: bytes 0xD4 0x01.
  ASSERT_EQ(out.size(), 215u);
  EXPECT_EQ(out.substr(0, 3), bytes({0x10, 0xD4, 0x01}));
  EXPECT_EQ(out.substr(13, 2), bytes({0, 200}));
}

TEST(MqttPacketEncodeTest, SubscribeBothVersions) {
  std::string out;
  encode_subscribe(MqttVersion::kV311, 1, "a/b", 1, out);
  EXPECT_EQ(out, bytes({0x82, 8, 0, 1, 0, 3, 'a', '/', 'b', 1}));
  out.clear();
  encode_subscribe(MqttVersion::kV5, 0x1234, "a/#", 0, out);
  EXPECT_EQ(out, bytes({0x82, 9, 0x12, 0x34, 0, 0, 3, 'a', '/', '#', 0}));
}

TEST(MqttPacketEncodeTest, UnsubscribeBothVersions) {
  std::string out;
  encode_unsubscribe(MqttVersion::kV311, 2, "a/b", out);
  EXPECT_EQ(out, bytes({0xA2, 7, 0, 2, 0, 3, 'a', '/', 'b'}));
  out.clear();
  encode_unsubscribe(MqttVersion::kV5, 2, "a/b", out);
  EXPECT_EQ(out, bytes({0xA2, 8, 0, 2, 0, 0, 3, 'a', '/', 'b'}));
}

TEST(MqttPacketEncodeTest, SmallPacketsAppend) {
  std::string out = "x";
  encode_puback(0xBEEF, out);
  encode_pingreq(out);
  encode_disconnect(MqttVersion::kV311, out);
  encode_disconnect(MqttVersion::kV5, out);
  EXPECT_EQ(out, bytes({'x', 0x40, 2, 0xBE, 0xEF, 0xC0, 0, 0xE0, 0, 0xE0, 0}));
}

// What foggate sends, a client must refuse to receive.
TEST(MqttPacketEncodeTest, OwnPacketsAreRefusedOnReceipt) {
  std::string connect, subscribe;
  encode_connect(ConnectFields{}, connect);
  encode_subscribe(MqttVersion::kV5, 1, "a", 0, subscribe);
  PacketView p;
  expect_fault(split_packet(connect, {}, p), "CONNECT");
  expect_fault(split_packet(subscribe, {}, p), "SUBSCRIBE");
}

}  // namespace
}  // namespace foggate::protocols
