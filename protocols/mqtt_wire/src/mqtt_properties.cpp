#include "mqtt_properties.h"

#include <string>

namespace foggate::protocols {
namespace {

enum class ValueType : uint8_t { kByte, kTwoByteInt, kFourByteInt, kVarint, kUtf8, kBinary, kUtf8Pair };

constexpr uint16_t bit(PacketType t) { return static_cast<uint16_t>(1u << static_cast<uint8_t>(t)); }
constexpr uint16_t kConnack = bit(PacketType::kConnack);
constexpr uint16_t kPublish = bit(PacketType::kPublish);
constexpr uint16_t kPuback = bit(PacketType::kPuback);
constexpr uint16_t kSuback = bit(PacketType::kSuback);
constexpr uint16_t kUnsuback = bit(PacketType::kUnsuback);
constexpr uint16_t kDisconnect = bit(PacketType::kDisconnect);
// CONNECT and Will properties: listed so that one sent to a client is
// named as misplaced rather than unknown.
constexpr uint16_t kNeverToClient = 0;
constexpr uint32_t kAny = 0xFFFFFFFF;

struct PropertySpec {
  uint8_t id;
  const char* name;
  ValueType type;
  uint16_t packets;          // where a server may send it (bits of PacketType)
  bool repeatable = false;
  uint32_t min = 0;          // numeric values: the spec's range;
  uint32_t max = kAny;       // outside it is a Protocol Error
};

// MQTT 5.0 section 2.2.2.2, restricted to what a server sends. Session
// Expiry Interval is CONNACK only: a server must not send it in DISCONNECT
// [MQTT-3.14.2-2].
constexpr PropertySpec kProperties[] = {
    {0x01, "Payload Format Indicator", ValueType::kByte, kPublish, false, 0, 1},
    {0x02, "Message Expiry Interval", ValueType::kFourByteInt, kPublish},
    {0x03, "Content Type", ValueType::kUtf8, kPublish},
    {0x08, "Response Topic", ValueType::kUtf8, kPublish},
    {0x09, "Correlation Data", ValueType::kBinary, kPublish},
    {0x0B, "Subscription Identifier", ValueType::kVarint, kPublish, true, 1},
    {0x11, "Session Expiry Interval", ValueType::kFourByteInt, kConnack},
    {0x12, "Assigned Client Identifier", ValueType::kUtf8, kConnack},
    {0x13, "Server Keep Alive", ValueType::kTwoByteInt, kConnack},
    {0x15, "Authentication Method", ValueType::kUtf8, kConnack},
    {0x16, "Authentication Data", ValueType::kBinary, kConnack},
    {0x17, "Request Problem Information", ValueType::kByte, kNeverToClient},
    {0x18, "Will Delay Interval", ValueType::kFourByteInt, kNeverToClient},
    {0x19, "Request Response Information", ValueType::kByte, kNeverToClient},
    {0x1A, "Response Information", ValueType::kUtf8, kConnack},
    {0x1C, "Server Reference", ValueType::kUtf8, kConnack | kDisconnect},
    {0x1F, "Reason String", ValueType::kUtf8, kConnack | kPuback | kSuback | kUnsuback | kDisconnect},
    {0x21, "Receive Maximum", ValueType::kTwoByteInt, kConnack, false, 1},
    {0x22, "Topic Alias Maximum", ValueType::kTwoByteInt, kConnack},
    {0x23, "Topic Alias", ValueType::kTwoByteInt, kPublish, false, 1},
    {0x24, "Maximum QoS", ValueType::kByte, kConnack, false, 0, 1},
    {0x25, "Retain Available", ValueType::kByte, kConnack, false, 0, 1},
    {0x26, "User Property", ValueType::kUtf8Pair, kConnack | kPublish | kPuback | kSuback | kUnsuback | kDisconnect, true},
    {0x27, "Maximum Packet Size", ValueType::kFourByteInt, kConnack, false, 1},
    {0x28, "Wildcard Subscription Available", ValueType::kByte, kConnack, false, 0, 1},
    {0x29, "Subscription Identifier Available", ValueType::kByte, kConnack, false, 0, 1},
    {0x2A, "Shared Subscription Available", ValueType::kByte, kConnack, false, 0, 1},
};

const PropertySpec* find_spec(uint32_t id) {
  for (const auto& spec : kProperties)
    if (spec.id == id) return &spec;
  return nullptr;
}

std::string describe(const PropertySpec& spec) { return std::string(spec.name) + " (" + hex_code(spec.id) + ")"; }

struct PropertyValue {
  uint32_t number = 0;
  std::string_view text;
};

template <typename T>
Result<PropertyValue> number_value(Result<T> read) {
  if (!read) return unexpected(read.error());
  return PropertyValue{*read, {}};
}

Result<PropertyValue> text_value(Result<std::string_view> read) {
  if (!read) return unexpected(read.error());
  return PropertyValue{0, *read};
}

Result<PropertyValue> read_value(WireReader& in, const PropertySpec& spec) {
  switch (spec.type) {
    case ValueType::kByte: return number_value(in.byte(spec.name));
    case ValueType::kTwoByteInt: return number_value(in.two_byte_int(spec.name));
    case ValueType::kFourByteInt: return number_value(in.four_byte_int(spec.name));
    case ValueType::kVarint: return number_value(in.varint(spec.name));
    case ValueType::kUtf8: return text_value(in.utf8(spec.name));
    case ValueType::kBinary: return text_value(in.binary(spec.name));
    case ValueType::kUtf8Pair: {
      auto key = in.utf8(spec.name);
      if (!key) return unexpected(key.error());
      return text_value(in.utf8(spec.name));
    }
  }
  return unexpected(protocol_error("property type out of range"));  // not reached: every type is handled
}

void keep(const PropertySpec& spec, const PropertyValue& value, Mqtt5Properties& out) {
  switch (spec.id) {
    case 0x12: out.assigned_client_id = value.text; break;
    case 0x13: out.server_keepalive = static_cast<uint16_t>(value.number); break;
    case 0x1F: out.reason_string = value.text; break;
    case 0x21: out.receive_maximum = static_cast<uint16_t>(value.number); break;
    case 0x23: out.topic_alias = static_cast<uint16_t>(value.number); break;
    case 0x24: out.maximum_qos = static_cast<uint8_t>(value.number); break;
    case 0x27: out.maximum_packet_size = value.number; break;
    default: break;  // valid here, nothing foggate acts on
  }
}

Result<Mqtt5Properties> read_block(WireReader& in, PacketType packet) {
  auto length = in.varint("property length");
  if (!length) return unexpected(length.error());
  auto bytes = in.take(*length, "property block");
  if (!bytes) return unexpected(bytes.error());

  WireReader block(*bytes);
  Mqtt5Properties out;
  uint64_t seen = 0;  // bit per id; every id is below 64
  while (!block.at_end()) {
    auto id = block.varint("property id");
    if (!id) return unexpected(id.error());
    const PropertySpec* spec = find_spec(*id);
    if (spec == nullptr) return unexpected(protocol_error("unknown property id " + hex_code(*id)));
    if ((spec->packets & bit(packet)) == 0)
      return unexpected(protocol_error(describe(*spec) + " is not allowed here"));
    const uint64_t mask = uint64_t{1} << spec->id;
    if (!spec->repeatable && (seen & mask) != 0)
      return unexpected(protocol_error(describe(*spec) + " appears twice"));
    seen |= mask;

    auto value = read_value(block, *spec);
    if (!value) return unexpected(value.error());
    if (value->number < spec->min)
      return unexpected(protocol_error(describe(*spec) + " is " + std::to_string(value->number) +
                                       ", less than " + std::to_string(spec->min)));
    if (value->number > spec->max)
      return unexpected(protocol_error(describe(*spec) + " is " + std::to_string(value->number) +
                                       ", more than " + std::to_string(spec->max)));
    keep(*spec, *value, out);
  }
  return out;
}

}  // namespace

Result<Mqtt5Properties> read_properties(WireReader& in, PacketType packet) {
  auto properties = read_block(in, packet);
  if (!properties) {
    Error e = std::move(properties.error());
    e.detail = std::string(packet_type_name(packet)) + " properties: " + e.detail;
    return unexpected(std::move(e));
  }
  return properties;
}

}  // namespace foggate::protocols
