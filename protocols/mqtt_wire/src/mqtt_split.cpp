// split_packet: framing. Every verdict here depends only on the bytes
// already seen (the type on the first byte, a malformed remaining length on
// its 4th byte), so a reader fed the stream in any chunks finds the same
// packets and the same faults as one given it all at once; the fuzz target
// checks exactly that.
#include <algorithm>

#include "foggate/protocols/mqtt_packet.h"
#include "wire_reader.h"

namespace foggate::protocols {
namespace {

Result<void> refuse(uint8_t type, std::string_view why) {
  return unexpected(protocol_error(std::string(packet_type_name(static_cast<PacketType>(type))) + ": " + std::string(why)));
}

Result<void> check_publish_flags(uint8_t flags) {
  const bool dup = (flags & 0x08) != 0;
  const int qos = (flags >> 1) & 0x03;
  if (qos == 3) return refuse(3, "QoS 3 does not exist");
  if (qos == 2) return refuse(3, "QoS 2, and foggate subscribes at QoS 0 and 1 only");
  if (dup && qos == 0) return refuse(3, "DUP set at QoS 0");
  return {};
}

// What a client may receive, and the flags the spec fixes for each type.
Result<void> check_fixed_header(uint8_t type, uint8_t flags) {
  switch (static_cast<PacketType>(type)) {
    case PacketType::kPublish:
      return check_publish_flags(flags);
    case PacketType::kConnack:
    case PacketType::kSuback:
    case PacketType::kUnsuback:
    case PacketType::kPuback:
    case PacketType::kPingresp:
    case PacketType::kDisconnect:
      if (flags != 0) return refuse(type, "fixed-header flags " + hex_code(flags) + ", must be 0");
      return {};
    case PacketType::kConnect:
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe:
    case PacketType::kPingreq:
      return refuse(type, "a server never sends one to a client");
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp:
      return refuse(type, "part of a QoS 2 flow, and foggate never subscribes at QoS 2");
    case PacketType::kAuth:
      return refuse(type, "foggate uses no enhanced authentication");
  }
  return refuse(type, "packet type 0 is reserved");
}

}  // namespace

Result<SplitStatus> split_packet(std::string_view buf, const WireLimits& limits, PacketView& packet) {
  if (buf.empty()) return SplitStatus::kNeedMore;
  const auto first = static_cast<uint8_t>(buf[0]);
  const auto type = static_cast<uint8_t>(first >> 4);
  const auto flags = static_cast<uint8_t>(first & 0x0F);
  if (auto ok = check_fixed_header(type, flags); !ok) return unexpected(ok.error());

  uint32_t remaining = 0;
  std::size_t length_bytes = 0;
  switch (decode_varint(buf.substr(1), remaining, length_bytes)) {
    case VarintStatus::kOk:
      break;
    case VarintStatus::kNeedMore:
      return SplitStatus::kNeedMore;
    case VarintStatus::kMalformed:
      return unexpected(protocol_error("remaining length longer than 4 bytes"));
  }

  const std::size_t header = 1 + length_bytes;
  const std::size_t total = header + remaining;
  const std::size_t present = buf.size() - header;
  const bool oversized = total > limits.max_packet_bytes;
  if (!oversized && present < remaining) return SplitStatus::kNeedMore;

  packet.type = static_cast<PacketType>(type);
  packet.flags = flags;
  packet.body = buf.substr(header, std::min<std::size_t>(remaining, present));
  packet.total = total;
  packet.remaining_length = remaining;
  return oversized ? SplitStatus::kOversized : SplitStatus::kPacket;
}

}  // namespace foggate::protocols
