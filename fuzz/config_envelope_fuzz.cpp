// Fuzzes parse_config_envelope and checks that an enveloped result
// survives make_config_envelope -> parse_config_envelope unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "foggate/protocols/config_envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace foggate::protocols;
  auto e = parse_config_envelope(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!e || !e->enveloped) return 0;
  (void)signing_input(e->section, e->target, e->version, e->body);
  auto again = parse_config_envelope(make_config_envelope(*e));
  if (!again || again->section != e->section || again->target != e->target ||
      again->version != e->version || again->body != e->body || again->alg != e->alg ||
      again->signature != e->signature)
    __builtin_trap();
  return 0;
}
