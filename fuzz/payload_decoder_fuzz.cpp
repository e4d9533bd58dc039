// Fuzzes decode_payload. The first byte picks the format (auto, json,
// msgpack, number) and whether the topic gave a metric; the rest is the
// payload. Any error is fine; a crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "foggate/protocols/payload_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  foggate::protocols::DecodeOptions options;
  options.format = static_cast<foggate::PayloadFormat>(data[0] % 4);
  foggate::Message msg;
  if (data[0] & 0x4) msg.metric = "temp";
  msg.payload.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto r = foggate::protocols::decode_payload(msg, options);
  if (r && msg.fields.size() > options.max_fields) __builtin_trap();
  return 0;
}
