// Test-side helpers for the MQTT wire tests (mqtt_packet_test.cpp,
// mqtt_packet_split_test.cpp, mqtt_encode_test.cpp): golden bytes written
// the way the OASIS specs (MQTT 3.1.1 and 5.0) lay them out.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "foggate/protocols/mqtt_packet.h"

namespace foggate::protocols::wire_test {

inline std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// An MQTT string or binary field: two-byte length, then the bytes.
inline std::string field(std::string_view s) {
  return bytes({static_cast<int>(s.size() >> 8), static_cast<int>(s.size() & 0xFF)}) + std::string(s);
}

// A packet whose body is under 128 bytes (one remaining-length byte).
inline std::string frame(int first_byte, std::string_view body) {
  EXPECT_LT(body.size(), 128u);
  return bytes({first_byte, static_cast<int>(body.size())}) + std::string(body);
}

// An MQTT 5 property block under 128 bytes: length, then the properties.
inline std::string props(std::string_view properties) {
  EXPECT_LT(properties.size(), 128u);
  return bytes({static_cast<int>(properties.size())}) + std::string(properties);
}

// The single packet `wire` holds; the view borrows `wire`.
inline PacketView view_of(std::string_view wire) {
  PacketView p;
  auto r = split_packet(wire, WireLimits{}, p);
  if (!r) {
    ADD_FAILURE() << r.error().detail;
    return p;
  }
  EXPECT_EQ(*r, SplitStatus::kPacket);
  EXPECT_EQ(p.total, wire.size());
  return p;
}

template <typename T>
void expect_fault(const Result<T>& r, std::string_view words) {
  ASSERT_FALSE(r.has_value()) << "expected an error naming: " << words;
  EXPECT_EQ(r.error().reason, "mqtt_protocol");
  EXPECT_NE(r.error().detail.find(words), std::string::npos) << r.error().detail;
}

}  // namespace foggate::protocols::wire_test
