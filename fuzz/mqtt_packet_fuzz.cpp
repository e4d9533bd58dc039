// Fuzzes the MQTT packet codec as foggate's ingest client meets it. Input:
// one byte choosing a chunk size (1..16), then the bytes a broker sends.
// The stream is split into packets, each parsed by every parser for its
// type in both versions; then it is fed again `chunk` bytes at a time, as
// reads from a socket would arrive, and must yield the same packets, the
// same oversized skips and the same fault at the same place.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/protocols/mqtt_packet.h"

namespace {

using namespace foggate::protocols;

// Small enough that inputs reach kOversized.
constexpr WireLimits kLimits{256};

struct Found {
  SplitStatus status = SplitStatus::kPacket;
  PacketType type = PacketType::kConnack;
  uint8_t flags = 0;
  std::size_t total = 0;
  std::string body;   // kPacket only: an oversized body depends on the chunking
  std::string fault;  // set for the fault that ends the stream
  bool operator==(const Found&) const = default;
};

bool within(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void parse_publish_checked(MqttVersion v, const PacketView& p) {
  auto m = parse_publish(v, p);
  if (!m) return;
  if (m->topic.empty() || m->topic.find_first_of("+#") != std::string_view::npos) __builtin_trap();
  if (m->qos > 1 || (m->qos == 1) != (m->packet_id != 0)) __builtin_trap();
  if (!within(m->topic, p.body) || !within(m->payload, p.body)) __builtin_trap();
}

void parse_every_way(const PacketView& p, SplitStatus status) {
  if (p.type == PacketType::kPublish) {
    parse_publish_checked(MqttVersion::kV311, p);
    parse_publish_checked(MqttVersion::kV5, p);
  }
  if (status != SplitStatus::kPacket) return;
  for (auto v : {MqttVersion::kV311, MqttVersion::kV5}) {
    switch (p.type) {
      case PacketType::kConnack:
        if (auto c = parse_connack(v, p)) (void)connack_reason_text(v, c->reason);
        break;
      case PacketType::kSuback:
        if (auto s = parse_suback(v, p)) {
          if (s->codes.empty() || s->packet_id == 0) __builtin_trap();
          for (uint8_t code : s->codes) (void)suback_code_text(code);
        }
        break;
      case PacketType::kPuback:
        if (auto a = parse_puback(v, p); a && a->packet_id == 0) __builtin_trap();
        break;
      case PacketType::kUnsuback:
        if (auto u = parse_unsuback(v, p); u && u->packet_id == 0) __builtin_trap();
        break;
      case PacketType::kDisconnect:
        // A server sends DISCONNECT only in MQTT 5.
        if (parse_disconnect(v, p).has_value() && v == MqttVersion::kV311) __builtin_trap();
        break;
      case PacketType::kPingresp:
        (void)check_pingresp(p).has_value();
        break;
      default:
        break;
    }
  }
}

// Takes packets off the front of `buf` until it runs dry or faults. Returns
// the bytes consumed; `skip` is what an oversized packet still owes beyond them.
std::size_t drain(std::string_view buf, bool parse, std::vector<Found>& found, std::size_t& skip, bool& stop) {
  std::size_t used = 0;
  while (!stop && used < buf.size()) {
    PacketView p;
    auto r = split_packet(buf.substr(used), kLimits, p);
    if (!r) {
      found.push_back({.fault = r.error().detail});
      stop = true;
      break;
    }
    if (*r == SplitStatus::kNeedMore) break;
    if (p.total < 2 || (*r == SplitStatus::kPacket && p.body.size() != p.remaining_length)) __builtin_trap();
    if (parse) parse_every_way(p, *r);
    found.push_back({*r, p.type, p.flags, p.total, *r == SplitStatus::kPacket ? std::string(p.body) : std::string()});
    const std::size_t left = buf.size() - used;
    if (p.total > left) {
      skip = p.total - left;
      return buf.size();
    }
    used += p.total;
  }
  return used;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 16;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<Found> whole;
  std::size_t skip = 0;
  bool stop = false;
  drain(stream, /*parse=*/true, whole, skip, stop);

  std::vector<Found> chunked;
  std::string pending;
  skip = 0;
  stop = false;
  for (std::size_t at = 0; at < stream.size() && !stop; at += chunk) {
    std::string_view piece = stream.substr(at, chunk);
    const std::size_t skipped = std::min(skip, piece.size());
    skip -= skipped;
    pending.append(piece.substr(skipped));
    pending.erase(0, drain(pending, /*parse=*/false, chunked, skip, stop));
  }
  if (chunked != whole) __builtin_trap();
  return 0;
}
