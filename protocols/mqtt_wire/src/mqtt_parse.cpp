// The bodies of what a broker sends a client. Each parser reads its body to
// the last byte: trailing bytes are a fault, not padding.
#include <algorithm>
#include <array>
#include <span>

#include "foggate/protocols/mqtt_packet.h"
#include "mqtt_properties.h"
#include "wire_reader.h"

namespace foggate::protocols {
namespace {

Result<void> expect_type(const PacketView& p, PacketType want) {
  if (p.type == want) return {};
  return unexpected(protocol_error(std::string("expected ") + packet_type_name(want) + ", got " +
                                   packet_type_name(p.type)));
}

Result<void> expect_end(const WireReader& in, PacketType packet) {
  if (in.at_end()) return {};
  return unexpected(protocol_error(std::string(packet_type_name(packet)) + ": " + std::to_string(in.left()) +
                                   " bytes after its last field"));
}

// MQTT 3.1.1 fixes some bodies' sizes outright.
Result<void> expect_size(const PacketView& p, std::size_t size) {
  if (p.body.size() == size) return {};
  return unexpected(protocol_error(std::string(packet_type_name(p.type)) + " body is " +
                                   std::to_string(p.body.size()) + " bytes; MQTT 3.1.1's is " +
                                   std::to_string(size)));
}

Result<uint16_t> read_packet_id(WireReader& in, PacketType packet) {
  const std::string field = std::string(packet_type_name(packet)) + " packet id";
  auto id = in.two_byte_int(field.c_str());
  if (!id) return unexpected(id.error());
  if (*id == 0) return unexpected(protocol_error(field + " is 0"));
  return id;
}

// The reason codes that follow SUBACK's and UNSUBACK's variable header:
// at least one, each from the packet's list.
Result<void> check_codes(std::string_view codes, std::span<const uint8_t> allowed, PacketType packet) {
  if (codes.empty()) return unexpected(protocol_error(std::string(packet_type_name(packet)) + " holds no codes"));
  for (char c : codes) {
    const auto code = static_cast<uint8_t>(c);
    if (std::find(allowed.begin(), allowed.end(), code) == allowed.end())
      return unexpected(protocol_error(std::string(packet_type_name(packet)) + " code " + hex_code(code) +
                                       " is not one the spec defines for it"));
  }
  return {};
}

constexpr std::array<uint8_t, 4> kSubackCodesV311{0x00, 0x01, 0x02, 0x80};
constexpr std::array<uint8_t, 12> kSubackCodesV5{0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                                 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
constexpr std::array<uint8_t, 9> kPubackCodesV5{0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
constexpr std::array<uint8_t, 7> kUnsubackCodesV5{0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};

Result<void> check_topic_name(std::string_view topic) {
  // A Topic Alias could stand in for an empty topic, but foggate allows none.
  if (topic.empty()) return unexpected(protocol_error("PUBLISH topic is empty"));
  if (topic.find_first_of("+#") != std::string_view::npos)
    return unexpected(protocol_error("PUBLISH topic holds a wildcard ('+' or '#')"));
  return {};
}

// Whether the whole MQTT 5 property block lies within what `in` holds.
bool property_block_present(const WireReader& in) {
  uint32_t length = 0;
  std::size_t used = 0;
  return decode_varint(in.rest(), length, used) == VarintStatus::kOk && used + length <= in.left();
}

}  // namespace

Result<Connack> parse_connack(MqttVersion v, const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kConnack); !ok) return unexpected(ok.error());
  // A broker without MQTT 5 answers a version 5 CONNECT in 3.1.1's format,
  // usually with return code 1: say so rather than "property length missing".
  if (v == MqttVersion::kV5 && p.body.size() == 2)
    return unexpected(protocol_error("CONNACK without properties, as MQTT 3.1.1 sends it (" +
                                     connack_reason_text(MqttVersion::kV311, static_cast<uint8_t>(p.body[1])) +
                                     "): does the broker speak MQTT 5?"));
  if (v == MqttVersion::kV311)
    if (auto ok = expect_size(p, 2); !ok) return unexpected(ok.error());

  WireReader in(p.body);
  auto flags = in.byte("CONNACK flags");
  if (!flags) return unexpected(flags.error());
  auto reason = in.byte("CONNACK reason code");
  if (!reason) return unexpected(reason.error());
  if ((*flags & 0xFE) != 0)
    return unexpected(protocol_error("CONNACK flags " + hex_code(*flags) + ": reserved bits set"));
  Connack c;
  c.session_present = (*flags & 0x01) != 0;
  c.reason = *reason;
  if (c.session_present && c.reason != 0)
    return unexpected(protocol_error("CONNACK refuses (" + connack_reason_text(v, c.reason) +
                                     ") yet says a session is present"));
  if (v == MqttVersion::kV311) {
    if (c.reason > 5) return unexpected(protocol_error("CONNACK return code " + std::to_string(c.reason) +
                                                       ", past the last one defined (5)"));
    return c;
  }

  // MQTT 5 reason codes below 0x80 mean success; CONNACK has only 0x00.
  if (c.reason != 0 && c.reason < 0x80)
    return unexpected(protocol_error("CONNACK reason code " + hex_code(c.reason) + " is not a CONNACK code"));
  auto props = read_properties(in, PacketType::kConnack);
  if (!props) return unexpected(props.error());
  if (auto ok = expect_end(in, PacketType::kConnack); !ok) return unexpected(ok.error());
  c.receive_maximum = props->receive_maximum.value_or(c.receive_maximum);
  c.maximum_packet_size = props->maximum_packet_size.value_or(c.maximum_packet_size);
  c.maximum_qos = props->maximum_qos.value_or(c.maximum_qos);
  c.server_keepalive = props->server_keepalive;
  c.assigned_client_id = props->assigned_client_id;
  c.reason_string = props->reason_string;
  return c;
}

Result<Publish> parse_publish(MqttVersion v, const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kPublish); !ok) return unexpected(ok.error());
  Publish m;
  m.retain = (p.flags & 0x01) != 0;
  m.qos = static_cast<uint8_t>((p.flags >> 1) & 0x03);
  m.dup = (p.flags & 0x08) != 0;
  // split_packet refuses these already; a view built by hand may not have been through it.
  if (m.qos > 1) return unexpected(protocol_error("PUBLISH at QoS " + std::to_string(m.qos)));

  WireReader in(p.body);
  auto topic = in.utf8("PUBLISH topic");
  if (!topic) return unexpected(topic.error());
  if (auto ok = check_topic_name(*topic); !ok) return unexpected(ok.error());
  m.topic = *topic;
  if (m.qos == 1) {
    auto id = read_packet_id(in, PacketType::kPublish);
    if (!id) return unexpected(id.error());
    m.packet_id = *id;
  }
  if (v == MqttVersion::kV5) {
    // Of an oversized PUBLISH the caller needs the topic (to log) and the
    // packet id (to PUBACK what it drops); properties cut off by the end of
    // the prefix are left unread and the payload empty.
    const bool prefix = p.body.size() < p.remaining_length;
    if (prefix && !property_block_present(in)) return m;
    auto props = read_properties(in, PacketType::kPublish);
    if (!props) return unexpected(props.error());
    if (props->topic_alias)
      return unexpected(protocol_error("PUBLISH uses Topic Alias " + std::to_string(*props->topic_alias) +
                                       ", and foggate allows none (Topic Alias Maximum 0)"));
  }
  m.payload = in.rest();
  return m;
}

Result<Suback> parse_suback(MqttVersion v, const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kSuback); !ok) return unexpected(ok.error());
  WireReader in(p.body);
  auto id = read_packet_id(in, PacketType::kSuback);
  if (!id) return unexpected(id.error());
  Suback s;
  s.packet_id = *id;
  if (v == MqttVersion::kV5) {
    auto props = read_properties(in, PacketType::kSuback);
    if (!props) return unexpected(props.error());
    s.reason_string = props->reason_string;
  }
  const std::span<const uint8_t> allowed =
      v == MqttVersion::kV5 ? std::span<const uint8_t>(kSubackCodesV5) : std::span<const uint8_t>(kSubackCodesV311);
  if (auto ok = check_codes(in.rest(), allowed, PacketType::kSuback); !ok) return unexpected(ok.error());
  s.codes.assign(in.rest().begin(), in.rest().end());
  return s;
}

Result<Unsuback> parse_unsuback(MqttVersion v, const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kUnsuback); !ok) return unexpected(ok.error());
  if (v == MqttVersion::kV311)
    if (auto ok = expect_size(p, 2); !ok) return unexpected(ok.error());
  WireReader in(p.body);
  auto id = read_packet_id(in, PacketType::kUnsuback);
  if (!id) return unexpected(id.error());
  if (v == MqttVersion::kV5) {
    auto props = read_properties(in, PacketType::kUnsuback);
    if (!props) return unexpected(props.error());
    if (auto ok = check_codes(in.rest(), kUnsubackCodesV5, PacketType::kUnsuback); !ok)
      return unexpected(ok.error());
  }
  return Unsuback{*id};
}

Result<Disconnect> parse_disconnect(MqttVersion v, const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kDisconnect); !ok) return unexpected(ok.error());
  if (v == MqttVersion::kV311)
    return unexpected(protocol_error("DISCONNECT from the server, which MQTT 3.1.1 does not have"));
  Disconnect d;
  // Remaining length 0 means reason 0x00 (Normal disconnection); below 2,
  // the property block may be left out.
  WireReader in(p.body);
  if (in.at_end()) return d;
  auto reason = in.byte("DISCONNECT reason code");
  if (!reason) return unexpected(reason.error());
  d.reason = *reason;
  if (in.at_end()) return d;
  auto props = read_properties(in, PacketType::kDisconnect);
  if (!props) return unexpected(props.error());
  if (auto ok = expect_end(in, PacketType::kDisconnect); !ok) return unexpected(ok.error());
  d.reason_string = props->reason_string;
  return d;
}

// MQTT 5 leaves the reason out for Success (length 2) and the properties
// out when there are none (length 3).
Result<Puback> parse_puback(MqttVersion v, const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kPuback); !ok) return unexpected(ok.error());
  if (v == MqttVersion::kV311)
    if (auto ok = expect_size(p, 2); !ok) return unexpected(ok.error());
  WireReader in(p.body);
  auto id = read_packet_id(in, PacketType::kPuback);
  if (!id) return unexpected(id.error());
  Puback a;
  a.packet_id = *id;
  if (v == MqttVersion::kV5 && in.left() > 0) {
    if (auto ok = check_codes(in.rest().substr(0, 1), kPubackCodesV5, PacketType::kPuback); !ok)
      return unexpected(ok.error());
    auto reason = in.byte("PUBACK reason code");
    if (!reason) return unexpected(reason.error());
    a.reason = *reason;
    if (in.left() > 0) {
      auto props = read_properties(in, PacketType::kPuback);
      if (!props) return unexpected(props.error());
      a.reason_string = props->reason_string;
    }
    if (auto ok = expect_end(in, PacketType::kPuback); !ok) return unexpected(ok.error());
  }
  return a;
}

Result<void> check_pingresp(const PacketView& p) {
  if (auto ok = expect_type(p, PacketType::kPingresp); !ok) return unexpected(ok.error());
  if (!p.body.empty())
    return unexpected(protocol_error("PINGRESP has " + std::to_string(p.body.size()) + " body bytes, must have none"));
  return {};
}

}  // namespace foggate::protocols
