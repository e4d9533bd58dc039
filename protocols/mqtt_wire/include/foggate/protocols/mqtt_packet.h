// MQTT control packets as a client sees them, MQTT 3.1.1 and 5.0 (OASIS):
// the encoders for what foggate's ingest connection sends (its presence
// publishes included) and a parser for what a broker may send it. No I/O, no allocation on the receive path
// beyond what a caller asks for: parsed views borrow the caller's buffer.
//
// Receive path: split_packet() finds one complete packet at the front of a
// buffer (fixed header + remaining length), then parse_* reads its body.
// Everything a client must never receive (CONNECT, SUBSCRIBE, UNSUBSCRIBE,
// PINGREQ, QoS 2 flows foggate never starts or asks for, AUTH, reserved types or
// flags, bad remaining length, bad UTF-8, unknown or misplaced MQTT 5
// properties, a Topic Alias foggate did not allow) is an Error with reason
// "mqtt_protocol" and a detail that names the fault; the caller drops the
// connection. A packet over WireLimits::max_packet_bytes is reported by
// split_packet() as kOversized with its size, so the caller can skip it
// without buffering it.
//
// Thread-safety: pure functions over caller-owned memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/base/result.h"

namespace foggate::protocols {

enum class MqttVersion : uint8_t { kV311 = 4, kV5 = 5 };

enum class PacketType : uint8_t {
  kConnect = 1, kConnack = 2, kPublish = 3, kPuback = 4, kPubrec = 5, kPubrel = 6, kPubcomp = 7,
  kSubscribe = 8, kSuback = 9, kUnsubscribe = 10, kUnsuback = 11, kPingreq = 12, kPingresp = 13,
  kDisconnect = 14, kAuth = 15,
};

struct WireLimits {
  uint32_t max_packet_bytes = 1024 * 1024;  // whole packet, fixed header included
};

// Longest string (client id, user name, password, filter) a packet can
// carry: its length goes in two bytes. Callers keep within it (the place
// to refuse a longer one is configuration); an encoder given one asserts
// and sends only its first kMqttMaxStringBytes.
inline constexpr std::size_t kMqttMaxStringBytes = 65535;

// "CONNACK", "PUBLISH", ...; "reserved" for 0.
const char* packet_type_name(PacketType type);

// ---- Sending -------------------------------------------------------------
// Each encoder appends one packet to `out` (so many can go out in one write).

// A Last Will: published by the broker when the connection ends without a
// DISCONNECT. QoS 1.
struct WillFields {
  std::string_view topic;
  std::string_view payload;
  bool retain = true;
};

struct ConnectFields {
  MqttVersion version = MqttVersion::kV5;
  std::string_view client_id;
  bool clean_start = false;
  uint16_t keepalive_s = 30;
  // MQTT 5 only (ignored for 3.1.1):
  uint32_t session_expiry_s = 0;     // 0xFFFFFFFF: never expires
  uint16_t receive_maximum = 65535;  // QoS 1 publishes the broker may have unacknowledged; always sent
  uint32_t maximum_packet_size = 0;  // 0: property left out (no limit announced)
  std::optional<std::string_view> username;
  // 3.1.1 allows a password only after a user name: a password without
  // one is sent with an empty user name.
  std::optional<std::string_view> password;
  std::optional<WillFields> will;
};
void encode_connect(const ConnectFields& c, std::string& out);
// One filter per SUBSCRIBE (so a refusal names its filter). MQTT 5
// subscription options: QoS only (No Local 0, Retain As Published 0,
// Retain Handling 0).
void encode_subscribe(MqttVersion v, uint16_t packet_id, std::string_view filter, int qos, std::string& out);
void encode_unsubscribe(MqttVersion v, uint16_t packet_id, std::string_view filter, std::string& out);
// A PUBLISH this client sends (no MQTT 5 properties).
struct PublishFields {
  std::string_view topic;
  std::string_view payload;
  uint8_t qos = 1;         // 0 or 1
  uint16_t packet_id = 0;  // QoS 1: not 0; QoS 0: none is written
  bool retain = false;
  bool dup = false;        // QoS 1 sent again after a reconnect (MQTT-3.3.1-1)
};
void encode_publish(MqttVersion v, const PublishFields& f, std::string& out);
// 4 bytes in both versions (MQTT 5: reason Success is implied by length 2).
void encode_puback(uint16_t packet_id, std::string& out);
void encode_pingreq(std::string& out);
// MQTT 5: reason 0x00 (normal disconnection), or 0x04 (with Will) unused.
void encode_disconnect(MqttVersion v, std::string& out);

// ---- Receiving -----------------------------------------------------------

struct PacketView {
  PacketType type = PacketType::kConnack;
  uint8_t flags = 0;          // low nibble of the first byte
  std::string_view body;      // variable header + payload (remaining length bytes)
  std::size_t total = 0;      // fixed header + body: bytes to consume
  uint32_t remaining_length = 0;  // body bytes the header announces; more
                                  // than body.size() only for kOversized
};

enum class SplitStatus : uint8_t {
  kPacket,     // `packet` is complete at the front of the buffer
  kNeedMore,   // the buffer holds a prefix of a packet; read more
  kOversized,  // a well-formed header announcing more than max_packet_bytes:
               // `packet.type/flags/total` are set, `packet.body` holds what
               // of the body is already in the buffer (may be less)
};
// Finds the packet at the front of `buf`. Error (mqtt_protocol) for a
// remaining length that is malformed (more than 4 bytes), a reserved packet
// type (0), a type a client must never receive or flags that the spec fixes
// and that differ. A non-minimal remaining length (0x80 0x00 for 0) is
// accepted: MQTT 5 forbids the sender to write one [MQTT-1.5.5-1], 3.1.1
// says nothing, and reading one is harmless.
Result<SplitStatus> split_packet(std::string_view buf, const WireLimits& limits, PacketView& packet);

struct Connack {
  bool session_present = false;
  uint8_t reason = 0;  // 3.1.1 return code or MQTT 5 reason code; 0 = accepted
  // MQTT 5 properties the connection acts on (defaults when absent):
  uint16_t receive_maximum = 65535;
  uint32_t maximum_packet_size = 0;   // 0: none announced
  uint8_t maximum_qos = 2;
  std::optional<uint16_t> server_keepalive;
  std::string assigned_client_id;
  std::string reason_string;
};
Result<Connack> parse_connack(MqttVersion v, const PacketView& p);
// Words for a CONNACK refusal, e.g. "not authorized (0x87)" or
// "bad user name or password (return code 4)".
std::string connack_reason_text(MqttVersion v, uint8_t reason);

struct Publish {
  std::string_view topic;    // valid UTF-8, no wildcards, not empty
  std::string_view payload;  // borrows the packet's buffer
  uint8_t qos = 0;           // 0 or 1 (2 is an Error: foggate never subscribes with QoS 2)
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;    // QoS 1 only, never 0
};
// For a kOversized PUBLISH, `p.body` may be a prefix: the topic and packet
// id are read when the prefix holds them (payload is then whatever
// follows; MQTT 5 properties the prefix cuts off are left unread and the
// payload is empty); an Error otherwise. A prefix is a body shorter than
// p.remaining_length. Topic aliases are an Error (foggate
// announces Topic Alias Maximum 0).
Result<Publish> parse_publish(MqttVersion v, const PacketView& p);

struct Suback {
  uint16_t packet_id = 0;
  std::vector<uint8_t> codes;  // granted QoS (0..2), or >= 0x80 refused
  std::string reason_string;   // MQTT 5
};
Result<Suback> parse_suback(MqttVersion v, const PacketView& p);
// Words for a SUBACK failure code: "not authorized (0x87)", "failure (0x80)".
std::string suback_code_text(uint8_t code);

struct Unsuback {
  uint16_t packet_id = 0;
};
Result<Unsuback> parse_unsuback(MqttVersion v, const PacketView& p);

struct Disconnect {  // MQTT 5 only: a broker-side DISCONNECT
  uint8_t reason = 0;
  std::string reason_string;
};
Result<Disconnect> parse_disconnect(MqttVersion v, const PacketView& p);

// The answer to one of our own QoS 1 publishes.
struct Puback {
  uint16_t packet_id = 0;
  uint8_t reason = 0;         // MQTT 5: >= 0x80 refused (e.g. 0x87 not authorized); 3.1.1: always 0
  std::string reason_string;  // MQTT 5
};
Result<Puback> parse_puback(MqttVersion v, const PacketView& p);

// PINGRESP has an empty body.
Result<void> check_pingresp(const PacketView& p);

}  // namespace foggate::protocols
