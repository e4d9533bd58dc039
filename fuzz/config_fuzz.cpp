// Fuzzes the configuration validator on the input as a JSON document.
// parse_config promises never to throw: an escaping exception aborts, which
// libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "foggate/gateway/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = foggate::gateway::parse_config(text);
  if (!r) (void)foggate::gateway::format_issues(r.error());
  return 0;
}
