#include "wire_reader.h"

#include <cstdio>

#include "foggate/protocols/utf8.h"

namespace foggate::protocols {

Error protocol_error(std::string detail) {
  return Error::permanent("mqtt_protocol", std::move(detail));
}

std::string hex_code(uint32_t code) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%02X", code);
  return text;
}

VarintStatus decode_varint(std::string_view in, uint32_t& value, std::size_t& used) {
  uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i == in.size()) return VarintStatus::kNeedMore;
    const auto b = static_cast<uint8_t>(in[i]);
    v |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      value = v;
      used = i + 1;
      return VarintStatus::kOk;
    }
  }
  // Decided by the 4th byte alone, so a reader fed byte by byte reaches the
  // same verdict as one given the whole buffer.
  return VarintStatus::kMalformed;
}

Result<void> check_mqtt_utf8(std::string_view text, const char* field) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i < text.size();) {
    // [MQTT-1.5.4-2]: U+0000 is forbidden even though it is valid UTF-8.
    if (p[i] == 0) return unexpected(protocol_error(std::string(field) + ": U+0000 at byte " + std::to_string(i)));
    const std::size_t n = utf8_length(p + i, text.size() - i);
    if (n == 0)
      return unexpected(protocol_error(std::string(field) + ": not valid UTF-8 at byte " + std::to_string(i)));
    i += n;
  }
  return {};
}

Result<std::string_view> WireReader::take(std::size_t n, const char* field) {
  if (n > rest_.size())
    return unexpected(protocol_error(std::string(field) + ": needs " + std::to_string(n) +
                                     (n == 1 ? " byte, " : " bytes, ") + std::to_string(rest_.size()) +
                                     " left in the packet"));
  std::string_view taken = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return taken;
}

Result<uint8_t> WireReader::byte(const char* field) {
  auto b = take(1, field);
  if (!b) return unexpected(b.error());
  return static_cast<uint8_t>((*b)[0]);
}

Result<uint16_t> WireReader::two_byte_int(const char* field) {
  auto b = take(2, field);
  if (!b) return unexpected(b.error());
  return static_cast<uint16_t>(static_cast<uint8_t>((*b)[0]) << 8 | static_cast<uint8_t>((*b)[1]));
}

Result<uint32_t> WireReader::four_byte_int(const char* field) {
  auto b = take(4, field);
  if (!b) return unexpected(b.error());
  uint32_t v = 0;
  for (char c : *b) v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

Result<uint32_t> WireReader::varint(const char* field) {
  uint32_t value = 0;
  std::size_t used = 0;
  switch (decode_varint(rest_, value, used)) {
    case VarintStatus::kOk:
      rest_.remove_prefix(used);
      return value;
    case VarintStatus::kNeedMore:
      return unexpected(protocol_error(std::string(field) + ": the packet ends inside its variable byte integer"));
    case VarintStatus::kMalformed:
      break;
  }
  return unexpected(protocol_error(std::string(field) + ": variable byte integer longer than 4 bytes"));
}

Result<std::string_view> WireReader::binary(const char* field) {
  auto length = two_byte_int(field);
  if (!length) return unexpected(length.error());
  return take(*length, field);
}

Result<std::string_view> WireReader::utf8(const char* field) {
  auto text = binary(field);
  if (!text) return unexpected(text.error());
  if (auto ok = check_mqtt_utf8(*text, field); !ok) return unexpected(ok.error());
  return text;
}

}  // namespace foggate::protocols
