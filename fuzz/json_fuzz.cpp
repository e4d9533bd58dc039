// Fuzzes parse_json and checks the round trip: whatever parses must print
// to JSON that parses again and prints the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "foggate/protocols/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace foggate::protocols;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = parse_json(text);
  if (!v) return 0;
  const std::string once = to_json(*v);
  // The printed form may be longer than the input (escapes), so the second
  // parse gets room for that; depth is unchanged.
  JsonLimits roomy;
  roomy.max_bytes = once.size() + 1;
  roomy.max_string = once.size() + 1;
  auto again = parse_json(once, roomy);
  if (!again) __builtin_trap();
  if (to_json(*again) != once) __builtin_trap();
  return 0;
}
