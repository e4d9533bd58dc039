// The load generator's wire side: the readings it publishes and the few
// things it reads back (device index, seq) from readings and alerts.
//
// Reading back does not parse the payload: the counting subscriber runs on
// the same two cores as the broker it measures, so it finds the one field
// it needs in a payload whose layout it wrote itself.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace foggate::bench {

enum class Format { kJson, kMsgpack };

// The reading `t` a device sends with sequence number `seq`. An alert
// device alternates far above and far below a threshold of 1000 (hysteresis
// 1), so a threshold detector raises on even and clears on odd seqs, and
// the alert's value alone names the seq: 2000 + seq when high, -seq when
// low. Other devices stay near room temperature and never alert.
inline double reading_value(bool alert_device, uint32_t seq) {
  if (!alert_device) return 20.0 + static_cast<double>(seq % 300) / 100.0;
  return seq % 2 == 0 ? 2000.0 + seq : -static_cast<double>(seq);
}

// The seq an alert value stands for (see reading_value); nullopt when the
// value cannot come from an alert device.
inline std::optional<uint32_t> seq_of_alert_value(double v) {
  const double s = v >= 2000.0 ? v - 2000.0 : -v;
  if (s < 0 || s > 4e9 || s != static_cast<double>(static_cast<uint32_t>(s))) return std::nullopt;
  return static_cast<uint32_t>(s);
}

namespace detail {
inline void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
}  // namespace detail

// {"t":21.53,"seq":12345,"ts":1700000000123} or the same map in msgpack
// (float64, uint32, uint64: fixed widths, so every payload of a run has
// one size). Replaces `out`.
inline void encode_reading(Format f, double t, uint32_t seq, int64_t wall_ms, std::string& out) {
  out.clear();
  if (f == Format::kJson) {
    char buf[96];
    const int n = std::snprintf(buf, sizeof buf, "{\"t\":%.2f,\"seq\":%u,\"ts\":%lld}", t, seq,
                                static_cast<long long>(wall_ms));
    out.assign(buf, static_cast<std::size_t>(n));
    return;
  }
  uint64_t bits = 0;
  std::memcpy(&bits, &t, sizeof bits);
  out += '\x83';  // map of 3
  out += "\xa1t\xcb";
  detail::put_be(out, bits, 8);
  out += "\xa3seq\xce";
  detail::put_be(out, seq, 4);
  out += "\xa2ts\xcf";
  detail::put_be(out, static_cast<uint64_t>(wall_ms), 8);
}

// The seq of a payload written by encode_reading.
inline std::optional<uint32_t> read_seq(Format f, std::string_view p) {
  if (f == Format::kJson) {
    const auto at = p.find("\"seq\":");
    if (at == std::string_view::npos) return std::nullopt;
    uint32_t seq = 0;
    const char* first = p.data() + at + 6;
    if (std::from_chars(first, p.data() + p.size(), seq).ec != std::errc()) return std::nullopt;
    return seq;
  }
  const auto at = p.find("\xa3seq\xce");
  if (at == std::string_view::npos || at + 9 > p.size()) return std::nullopt;
  uint32_t seq = 0;
  for (std::size_t i = at + 5; i < at + 9; ++i) seq = (seq << 8) | static_cast<unsigned char>(p[i]);
  return seq;
}

// i from "dev-<i>" anywhere in `s` (a topic like sensors/dev-12/temp, or a
// device id).
inline std::optional<uint32_t> device_index(std::string_view s) {
  const auto at = s.find("dev-");
  if (at == std::string_view::npos) return std::nullopt;
  uint32_t i = 0;
  if (std::from_chars(s.data() + at + 4, s.data() + s.size(), i).ec != std::errc()) return std::nullopt;
  return i;
}

}  // namespace foggate::bench
