// Base64 (RFC 4648, section 4: standard alphabet, '=' padding), shared by
// the uplink_format module (raw values) and the trust module (configuration
// signatures); hence a public header of codec, which both link.
//
// The decoder is strict on purpose: it takes only the canonical encoding
// (length a multiple of 4, padding only at the end, zero pad bits, no white
// space), so one byte string has exactly one accepted text.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace foggate::protocols {

inline constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline std::string base64_encode(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t n = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  if (i < size) {
    uint32_t n = uint32_t{p[i]} << 16;
    if (i + 1 < size) n |= uint32_t{p[i + 1]} << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += i + 1 < size ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The decoded bytes, or nullopt when `text` is not canonical base64.
inline std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t chars = last ? 4 - pad : 4;
    uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int v = 0;
      if (k < chars) {
        v = value(text[i + k]);
        if (v < 0) return std::nullopt;
      }
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    // Bits the padding leaves unused must be zero, or two texts would
    // decode to the same bytes.
    if (chars == 2 && (n & 0xFFFF) != 0) return std::nullopt;
    if (chars == 3 && (n & 0xFF) != 0) return std::nullopt;
    out += static_cast<char>((n >> 16) & 0xFF);
    if (chars > 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (chars > 3) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace foggate::protocols
