// WireReader: a cursor over one packet body (or a prefix of one) that
// never reads past it. Each read names the field it reads, so an Error says
// which field was short or malformed. Also the one Variable Byte Integer
// decoder, shared by split_packet (remaining length) and the property reader.
//
// Thread-safety: a plain value over caller-owned memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "foggate/base/result.h"

namespace foggate::protocols {

// Error::permanent("mqtt_protocol", detail): every fault on this connection.
Error protocol_error(std::string detail);
// "0x87": how MQTT writes codes and ids, for error details and texts.
std::string hex_code(uint32_t code);

enum class VarintStatus : uint8_t { kOk, kNeedMore, kMalformed };
// MQTT Variable Byte Integer: 7 bits a byte, least significant first, high
// bit = more follows, at most 4 bytes. kNeedMore when `in` ends inside it,
// kMalformed when a 4th byte still says more follows.
VarintStatus decode_varint(std::string_view in, uint32_t& value, std::size_t& used);

// The MQTT rules for a UTF-8 Encoded String's text: well-formed UTF-8
// (no overlong forms, no surrogates, nothing above U+10FFFF) and no U+0000.
Result<void> check_mqtt_utf8(std::string_view text, const char* field);

class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : rest_(bytes) {}

  bool at_end() const { return rest_.empty(); }
  std::size_t left() const { return rest_.size(); }
  // What is not read yet; reading it is the caller's (payload, codes).
  std::string_view rest() const { return rest_; }

  Result<uint8_t> byte(const char* field);
  Result<uint16_t> two_byte_int(const char* field);
  Result<uint32_t> four_byte_int(const char* field);
  Result<uint32_t> varint(const char* field);
  // Binary Data: two-byte length, then that many bytes.
  Result<std::string_view> binary(const char* field);
  // UTF-8 Encoded String: as binary, then check_mqtt_utf8.
  Result<std::string_view> utf8(const char* field);
  // The next n bytes.
  Result<std::string_view> take(std::size_t n, const char* field);

 private:
  std::string_view rest_;
};

}  // namespace foggate::protocols
