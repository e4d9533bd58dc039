// The MQTT 5 property reader: one property block (length, then id/value
// pairs) of a packet a client receives. It knows every property id the spec
// defines, which packets may carry each and which may repeat; an unknown id,
// one the packet may not carry, a second copy of a single-occurrence
// property or a value out of its range is an Error.
//
// Thread-safety: pure function over caller-owned memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "foggate/protocols/mqtt_packet.h"
#include "wire_reader.h"

namespace foggate::protocols {

// The properties foggate acts on. Everything else the packet may carry is
// checked and skipped. Views borrow the packet's buffer.
struct Mqtt5Properties {
  std::optional<uint16_t> receive_maximum;
  std::optional<uint32_t> maximum_packet_size;
  std::optional<uint8_t> maximum_qos;
  std::optional<uint16_t> server_keepalive;
  std::optional<uint16_t> topic_alias;
  std::string_view assigned_client_id;
  std::string_view reason_string;
};

// Reads the block at the front of `in` (CONNACK, PUBLISH, SUBACK, UNSUBACK
// or DISCONNECT) and leaves `in` just after it.
Result<Mqtt5Properties> read_properties(WireReader& in, PacketType packet);

}  // namespace foggate::protocols
