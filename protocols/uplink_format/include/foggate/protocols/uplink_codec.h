// The uplink batch format: a zlib (RFC 1950) stream holding one msgpack map
// with the batch header and its messages stored column by column.
// docs/uplink-format.md is the normative description; a consumer needs
// only stock msgpack and zlib libraries (examples/decode_batch.py).
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/base/result.h"
#include "foggate/message/message.h"
#include "foggate/message/priority.h"
#include "foggate/protocols/json.h"

namespace foggate::protocols {

inline constexpr int kUplinkFormatVersion = 1;
// Summary batches (issue #15: a degraded uplink folds readings into
// summaries) are version 2: the same document plus "kind": "summary", so a
// version-1 decoder refuses them (batch_version) instead of taking the
// summaries for readings. Full-resolution batches stay version 1.
inline constexpr int kUplinkSummaryVersion = 2;

struct BatchHeader {
  std::string gateway;
  uint64_t seq = 0;
  Priority priority = Priority::kNormal;
  int64_t created_ms = 0;
  bool summary = false;  // Default: false; true writes a version-2 summary batch
};

struct EncodedBatch {
  std::string bytes;       // the compressed document, as published
  uint64_t raw_bytes = 0;  // sum of topic + payload bytes of the messages
  uint32_t messages = 0;
};

// A message in a batch may carry flags (bit values below).
inline constexpr uint32_t kFlagOffloaded = 1;  // sent upstream instead of being processed locally
inline constexpr uint32_t kFlagRaw = 2;        // payload could not be decoded: raw bytes
inline constexpr uint32_t kFlagSummary = 4;    // a summary of readings (set on every message of a summary batch)

struct BatchItem {
  std::shared_ptr<const Message> message;
  uint32_t flags = 0;
};

// Encodes and compresses. Payloads are re-read from message->payload
// according to message->format (JSON -> msgpack value; msgpack embedded as
// is; number -> number); a payload that fails to parse is stored as raw
// bytes with kFlagRaw. Error "uplink_encode" only on internal failure.
Result<EncodedBatch> encode_batch(const BatchHeader& header, std::span<const BatchItem> items,
                                  int zlib_level = 6);

struct DecodeBatchLimits {
  std::size_t max_output_bytes = 64u << 20;  // Default: 64 MiB decompressed
  std::size_t max_messages = 1'000'000;      // Default: 1e6 messages per batch
};

// Decompresses and decodes one batch into one JSON object per message:
// {"gateway","seq","priority","created_ms","device","topic","source",
//  "sensor_ts_ms" (absent when unknown),"received_ms","flags","payload"}
// where payload is the decoded value, or {"raw_base64": "..."} for raw bytes;
// the messages of a summary batch (version 2) also have "summary": true
// after "flags".
// Errors (permanent): "zlib" (not a zlib stream, or corrupt),
// "too_large" (output over max_output_bytes), "batch_format" (detail says
// which part), "batch_version" (a version this build does not know).
Result<std::vector<JsonValue>> decode_batch(std::string_view bytes, const DecodeBatchLimits& limits = {});

}  // namespace foggate::protocols
