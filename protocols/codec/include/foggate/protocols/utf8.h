// UTF-8 well-formedness (RFC 3629), shared by the JSON reader and the
// uplink encoder (the uplink_format module, which links codec): everything
// foggate hands on must be valid UTF-8.
#pragma once

#include <cstddef>

namespace foggate::protocols {

// Length of the well-formed sequence starting at p (1 for ASCII), or 0 when
// it is not one. Overlong forms, UTF-16 surrogates and code points above
// U+10FFFF are not well-formed. `avail` > 0 bytes are readable at p.
inline std::size_t utf8_length(const unsigned char* p, std::size_t avail) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (avail < n || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

}  // namespace foggate::protocols
