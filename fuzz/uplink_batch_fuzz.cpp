// Fuzzes decode_batch (zlib + msgpack) with small limits, so a zip bomb
// is refused rather than exhausting the fuzzer's memory.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "foggate/protocols/uplink_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace foggate::protocols;
  DecodeBatchLimits limits;
  limits.max_output_bytes = 1u << 20;
  limits.max_messages = 10'000;
  auto r = decode_batch(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (r && r->size() > limits.max_messages) __builtin_trap();
  if (r)
    for (const auto& v : *r) (void)to_json(v);
  return 0;
}
