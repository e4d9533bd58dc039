// The packets foggate's ingest connection sends. Each body is built apart
// and then framed, because the remaining length in front of it depends on
// its size; these packets are few and small, so the extra string costs
// nothing that matters.
#include <algorithm>
#include <cassert>

#include "foggate/protocols/mqtt_packet.h"

namespace foggate::protocols {
namespace {

void put_byte(std::string& out, uint8_t b) { out.push_back(static_cast<char>(b)); }

void put_two_byte_int(std::string& out, uint16_t v) {
  put_byte(out, static_cast<uint8_t>(v >> 8));
  put_byte(out, static_cast<uint8_t>(v & 0xFF));
}

void put_four_byte_int(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) put_byte(out, static_cast<uint8_t>(v >> shift));
}

void put_varint(std::string& out, std::size_t v) {
  do {
    auto b = static_cast<uint8_t>(v % 128);
    v /= 128;
    if (v != 0) b |= 0x80;
    put_byte(out, b);
  } while (v != 0);
}

// UTF-8 Encoded String and Binary Data share this layout. The length field
// cannot say more than 65535, so a longer string here is a caller's bug:
// cut it rather than send a frame the broker would misread.
void put_string(std::string& out, std::string_view s) {
  assert(s.size() <= kMqttMaxStringBytes);
  s = s.substr(0, kMqttMaxStringBytes);
  put_two_byte_int(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}

void put_packet(uint8_t first_byte, std::string_view body, std::string& out) {
  put_byte(out, first_byte);
  put_varint(out, body.size());
  out.append(body);
}

// The CONNECT properties foggate announces; each is left out at its default.
std::string connect_properties(const ConnectFields& c) {
  std::string props;
  if (c.session_expiry_s != 0) {
    put_byte(props, 0x11);
    put_four_byte_int(props, c.session_expiry_s);
  }
  // Always sent, 65535 included: mosquitto 2.0 falls back to its own
  // max_inflight_messages (20 by default) when the property is absent.
  {
    put_byte(props, 0x21);
    put_two_byte_int(props, c.receive_maximum);
  }
  if (c.maximum_packet_size != 0) {
    put_byte(props, 0x27);
    put_four_byte_int(props, c.maximum_packet_size);
  }
  return props;
}

constexpr uint8_t kUsernameFlag = 0x80;
constexpr uint8_t kPasswordFlag = 0x40;
constexpr uint8_t kWillRetainFlag = 0x20;
constexpr uint8_t kWillQos1Flag = 0x08;  // Will QoS in bits 3-4
constexpr uint8_t kWillFlag = 0x04;
constexpr uint8_t kCleanStartFlag = 0x02;  // "Clean Session" in 3.1.1

}  // namespace

void encode_connect(const ConnectFields& c, std::string& out) {
  const bool v5 = c.version == MqttVersion::kV5;
  // 3.1.1 forbids the password flag without the user name flag
  // [MQTT-3.1.2-22]: such a password goes with an empty user name.
  std::optional<std::string_view> username = c.username;
  if (!v5 && c.password && !username) username = std::string_view{};

  uint8_t flags = 0;
  if (c.clean_start) flags |= kCleanStartFlag;
  if (username) flags |= kUsernameFlag;
  if (c.password) flags |= kPasswordFlag;
  if (c.will) {
    flags |= kWillFlag | kWillQos1Flag;
    if (c.will->retain) flags |= kWillRetainFlag;
  }

  std::string body;
  put_string(body, "MQTT");
  put_byte(body, static_cast<uint8_t>(c.version));
  put_byte(body, flags);
  put_two_byte_int(body, c.keepalive_s);
  if (v5) {
    const std::string props = connect_properties(c);
    put_varint(body, props.size());
    body += props;
  }
  put_string(body, c.client_id);
  if (c.will) {
    if (v5) put_varint(body, 0);  // no Will properties
    put_string(body, c.will->topic);
    put_string(body, c.will->payload);  // Binary Data: the same layout
  }
  if (username) put_string(body, *username);
  if (c.password) put_string(body, *c.password);
  put_packet(0x10, body, out);
}

void encode_subscribe(MqttVersion v, uint16_t packet_id, std::string_view filter, int qos, std::string& out) {
  assert(packet_id != 0);
  assert(qos >= 0 && qos <= 2);
  std::string body;
  put_two_byte_int(body, packet_id);
  if (v == MqttVersion::kV5) put_varint(body, 0);  // no properties
  put_string(body, filter);
  // Subscription options: QoS in bits 0-1; every other bit 0 (3.1.1:
  // reserved; MQTT 5: No Local, Retain As Published, Retain Handling 0).
  put_byte(body, static_cast<uint8_t>(std::clamp(qos, 0, 2)));
  put_packet(0x82, body, out);
}

void encode_unsubscribe(MqttVersion v, uint16_t packet_id, std::string_view filter, std::string& out) {
  assert(packet_id != 0);
  std::string body;
  put_two_byte_int(body, packet_id);
  if (v == MqttVersion::kV5) put_varint(body, 0);  // no properties
  put_string(body, filter);
  put_packet(0xA2, body, out);
}

void encode_publish(MqttVersion v, const PublishFields& f, std::string& out) {
  assert(f.qos <= 1 && (f.qos == 0 || f.packet_id != 0));
  std::string body;
  put_string(body, f.topic);
  if (f.qos == 1) put_two_byte_int(body, f.packet_id);
  if (v == MqttVersion::kV5) put_varint(body, 0);  // no properties
  body.append(f.payload);
  const auto flags = static_cast<uint8_t>((f.dup && f.qos == 1 ? 0x08 : 0x00) | (f.qos << 1) | (f.retain ? 0x01 : 0x00));
  put_packet(static_cast<uint8_t>(0x30 | flags), body, out);
}

void encode_puback(uint16_t packet_id, std::string& out) {
  put_byte(out, 0x40);
  put_byte(out, 0x02);
  put_two_byte_int(out, packet_id);
}

void encode_pingreq(std::string& out) {
  put_byte(out, 0xC0);
  put_byte(out, 0x00);
}

// MQTT 5 lets a remaining length of 0 stand for reason 0x00 (Normal
// disconnection) with no properties, which makes both versions the same.
void encode_disconnect(MqttVersion, std::string& out) {
  put_byte(out, 0xE0);
  put_byte(out, 0x00);
}

}  // namespace foggate::protocols
