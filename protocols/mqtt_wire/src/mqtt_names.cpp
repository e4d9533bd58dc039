// Names for packet types and reason codes, for log lines and refusals. The
// words are the specs' own, lower-cased, so an operator can look them up.
#include <array>

#include "foggate/protocols/mqtt_packet.h"
#include "wire_reader.h"

namespace foggate::protocols {
namespace {

constexpr std::array<const char*, 16> kPacketTypeNames{
    "reserved", "CONNECT", "CONNACK", "PUBLISH",     "PUBACK", "PUBREC",  "PUBREL",     "PUBCOMP",
    "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"};

// MQTT 3.1.1 section 3.2.2.3: CONNACK return codes 0..5.
constexpr std::array<const char*, 6> kReturnCodesV311{
    "connection accepted",  "unacceptable protocol version", "identifier rejected",
    "server unavailable",   "bad user name or password",     "not authorized"};

// MQTT 5.0 section 2.4: the failure reason codes, 0x80 to 0xA2. CONNACK,
// SUBACK, UNSUBACK and DISCONNECT each use a subset.
constexpr uint8_t kFirstFailure = 0x80;
constexpr std::array<const char*, 0xA3 - kFirstFailure> kFailureReasonsV5{
    "unspecified error",                    // 0x80
    "malformed packet",                     // 0x81
    "protocol error",                       // 0x82
    "implementation specific error",        // 0x83
    "unsupported protocol version",         // 0x84
    "client identifier not valid",          // 0x85
    "bad user name or password",            // 0x86
    "not authorized",                       // 0x87
    "server unavailable",                   // 0x88
    "server busy",                          // 0x89
    "banned",                               // 0x8A
    "server shutting down",                 // 0x8B
    "bad authentication method",            // 0x8C
    "keep alive timeout",                   // 0x8D
    "session taken over",                   // 0x8E
    "topic filter invalid",                 // 0x8F
    "topic name invalid",                   // 0x90
    "packet identifier in use",             // 0x91
    "packet identifier not found",          // 0x92
    "receive maximum exceeded",             // 0x93
    "topic alias invalid",                  // 0x94
    "packet too large",                     // 0x95
    "message rate too high",                // 0x96
    "quota exceeded",                       // 0x97
    "administrative action",                // 0x98
    "payload format invalid",               // 0x99
    "retain not supported",                 // 0x9A
    "QoS not supported",                    // 0x9B
    "use another server",                   // 0x9C
    "server moved",                         // 0x9D
    "shared subscriptions not supported",   // 0x9E
    "connection rate exceeded",             // 0x9F
    "maximum connect time",                 // 0xA0
    "subscription identifiers not supported",  // 0xA1
    "wildcard subscriptions not supported",    // 0xA2
};

// "not authorized (0x87)", or `unknown` with the code.
std::string failure_text(uint8_t code, const char* unknown) {
  const bool known = code >= kFirstFailure && code - kFirstFailure < static_cast<int>(kFailureReasonsV5.size());
  return std::string(known ? kFailureReasonsV5[code - kFirstFailure] : unknown) + " (" + hex_code(code) + ")";
}

}  // namespace

const char* packet_type_name(PacketType type) {
  return kPacketTypeNames[static_cast<uint8_t>(type) & 0x0F];
}

std::string connack_reason_text(MqttVersion v, uint8_t reason) {
  if (v == MqttVersion::kV311) {
    const char* words = reason < kReturnCodesV311.size() ? kReturnCodesV311[reason] : "unknown return code";
    return std::string(words) + " (return code " + std::to_string(reason) + ")";
  }
  if (reason == 0) return "success (0x00)";
  return failure_text(reason, "unknown reason");
}

std::string suback_code_text(uint8_t code) {
  if (code <= 2) return "granted QoS " + std::to_string(code) + " (" + hex_code(code) + ")";
  // 3.1.1 calls 0x80 "Failure", MQTT 5 "Unspecified error": the same thing.
  if (code == 0x80) return "failure (0x80)";
  return failure_text(code, "unknown code");
}

}  // namespace foggate::protocols
