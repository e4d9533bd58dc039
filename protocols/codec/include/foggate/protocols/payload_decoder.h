// Decodes a sensor payload (JSON object, msgpack map, or a bare number) into
// the scalar fields of a Message. Runs on ingest threads (Paho callback,
// CoAP loop) for every message: no locks, few allocations.
//
// Errors are permanent: the message is malformed. Error.reason is a stable
// label for metrics ("json_syntax", "msgpack_syntax", "not_a_number",
// "not_an_object", "too_many_fields", "too_deep", "too_large", "empty",
// "bad_timestamp", "topic_too_long"); Error.detail says where.
#pragma once

#include <cstddef>
#include <string>

#include "foggate/base/result.h"
#include "foggate/message/message.h"

namespace foggate::protocols {

struct DecodeOptions {
  PayloadFormat format = PayloadFormat::kAuto;  // Default: auto-detect
  std::string timestamp_field = "ts";   // Default: "ts"; numeric epoch, s or ms
  std::size_t max_bytes = 64 * 1024;    // Default: 64 KiB
  std::size_t max_fields = 64;          // Default: 64 scalar fields
  std::size_t max_depth = 8;            // Default: 8 levels of nesting
  std::size_t max_string = 1024;        // Default: 1 KiB per string value or key
  std::size_t max_topic_bytes = 256;    // Default: 256 bytes of topic (MQTT) or path (CoAP)
};

// Reads msg.payload; on success fills msg.fields (nested object keys joined
// by '.', arrays skipped), msg.format (the detected format) and
// msg.sensor_ts_ms (from the timestamp field when present; values below
// 1e11 are taken as seconds). A bare number becomes one field named after
// msg.metric, or "value" when the topic gave no metric.
//
// Auto-detection: first non-space byte '{' -> JSON; a msgpack map header
// (0x80-0x8f, 0xde, 0xdf) -> msgpack; otherwise a number in text.
Result<void> decode_payload(Message& msg, const DecodeOptions& options);

}  // namespace foggate::protocols
