// encode_batch, the gateway side of the uplink format (docs/uplink-format.md);
// decode_batch is in uplink_decode.cpp.
#include "foggate/protocols/uplink_codec.h"

#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <msgpack.hpp>

#include "uplink_columns.h"
#include "uplink_values.h"
#include "zlib_stream.h"

namespace foggate::protocols {
namespace {

constexpr uint64_t kMaxStr = std::numeric_limits<uint32_t>::max();

Unexpected<Error> encode_error(std::string detail) {
  return unexpected(Error::permanent("uplink_encode", std::move(detail)));
}

void pack_str(BatchPacker& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::string_view str_of(const msgpack::object& o) { return {o.via.str.ptr, o.via.str.size}; }

// Distinct strings in first-seen order. Views must outlive the dictionary.
class Dictionary {
 public:
  uint32_t index(std::string_view s) {
    auto [it, added] = index_.try_emplace(s, static_cast<uint32_t>(entries_.size()));
    if (added) entries_.push_back(s);
    return it->second;
  }
  const std::vector<std::string_view>& entries() const { return entries_; }

 private:
  std::unordered_map<std::string_view, uint32_t> index_;
  std::vector<std::string_view> entries_;
};

// Distinct key lists of flat payloads, each with one column per key.
class SchemaTable {
 public:
  int32_t add_row(const msgpack::object_map& map) {
    signature_.clear();
    for (uint32_t i = 0; i < map.size; ++i) {
      const std::string_view key = str_of(map.ptr[i].key);
      const auto len = static_cast<uint32_t>(key.size());
      signature_.append(reinterpret_cast<const char*>(&len), sizeof len);
      signature_.append(key);
    }
    auto [it, added] = index_.try_emplace(signature_, static_cast<int32_t>(keys_.size()));
    if (added) {
      std::vector<std::string_view>& keys = keys_.emplace_back();
      for (uint32_t i = 0; i < map.size; ++i) keys.push_back(str_of(map.ptr[i].key));
      columns_.emplace_back(map.size);
    }
    auto& columns = columns_[static_cast<std::size_t>(it->second)];
    for (uint32_t i = 0; i < map.size; ++i) columns[i].push_back(&map.ptr[i].val);
    return it->second;
  }

  void pack_keys(BatchPacker& pk) const {
    pk.pack_array(static_cast<uint32_t>(keys_.size()));
    for (const auto& keys : keys_) {
      pk.pack_array(static_cast<uint32_t>(keys.size()));
      for (const std::string_view k : keys) pack_str(pk, k);
    }
  }

  void pack_columns(BatchPacker& pk) const {
    pk.pack_array(static_cast<uint32_t>(columns_.size()));
    for (const auto& columns : columns_) {
      pk.pack_array(static_cast<uint32_t>(columns.size()));
      for (const auto& column : columns) pack_column(pk, column);
    }
  }

 private:
  std::string signature_;  // scratch: length-prefixed keys
  std::unordered_map<std::string, int32_t> index_;
  std::vector<std::vector<std::string_view>> keys_;
  std::vector<std::vector<std::vector<const msgpack::object*>>> columns_;
};

// Everything a batch holds before packing, one entry per message.
struct Rows {
  Dictionary topics, devices;
  std::vector<uint32_t> topic, device, src, flags;
  std::vector<int64_t> rx_delta;
  std::vector<std::optional<int64_t>> ts_delta;
  std::vector<int32_t> pschema;
  SchemaTable schemas;
  std::vector<msgpack::object> other;
  std::deque<std::string> fixed;  // topics and devices repaired to UTF-8
};

// Topics and device ids are UTF-8 by MQTT's rules but not by CoAP's; one bad
// byte would make the whole batch unreadable for a strict msgpack reader.
std::string_view utf8_view(const std::string& s, std::deque<std::string>& fixed) {
  if (valid_utf8(s)) return s;
  std::string& copy = fixed.emplace_back(s);
  sanitize_utf8(copy);
  return copy;
}

void pack_uints(BatchPacker& pk, const std::vector<uint32_t>& values) {
  pk.pack_array(static_cast<uint32_t>(values.size()));
  for (const uint32_t v : values) pk.pack_uint32(v);
}

void pack_strs(BatchPacker& pk, const std::vector<std::string_view>& values) {
  pk.pack_array(static_cast<uint32_t>(values.size()));
  for (const std::string_view v : values) pack_str(pk, v);
}

Result<void> add_message(const BatchItem& item, std::size_t i, Rows& rows, int64_t& prev_rx,
                         int64_t& prev_ts, msgpack::zone& zone, bool summary) {
  const Message& m = *item.message;
  if (m.payload.size() > kMaxStr || m.topic.size() > kMaxStr || m.device.size() > kMaxStr) {
    return encode_error("message " + std::to_string(i) + " is larger than 4 GiB");
  }
  rows.topic.push_back(rows.topics.index(utf8_view(m.topic, rows.fixed)));
  rows.device.push_back(rows.devices.index(utf8_view(m.device, rows.fixed)));
  rows.src.push_back(m.source == Source::kCoap ? 1 : 0);

  int64_t d = 0;
  if (__builtin_sub_overflow(m.received_ms, prev_rx, &d)) {
    return encode_error("received_ms delta of message " + std::to_string(i) + " overflows");
  }
  rows.rx_delta.push_back(d);
  prev_rx = m.received_ms;
  if (m.sensor_ts_ms == 0) {
    rows.ts_delta.emplace_back();
  } else {
    if (__builtin_sub_overflow(m.sensor_ts_ms, prev_ts, &d)) {
      return encode_error("sensor_ts_ms delta of message " + std::to_string(i) + " overflows");
    }
    rows.ts_delta.emplace_back(d);
    prev_ts = m.sensor_ts_ms;
  }

  const UplinkPayload p = read_payload(m, (item.flags & kFlagRaw) != 0, zone);
  uint32_t flags = item.flags | (summary ? kFlagSummary : 0u);
  if (p.kind == UplinkPayload::Kind::kFlat) {
    rows.pschema.push_back(rows.schemas.add_row(p.value.via.map));
  } else {
    if (p.kind == UplinkPayload::Kind::kRaw) flags |= kFlagRaw;
    rows.pschema.push_back(-1);
    rows.other.push_back(p.value);
  }
  rows.flags.push_back(flags);
  return {};
}

void pack_batch(BatchPacker& pk, const BatchHeader& header, std::string_view gateway,
                const Rows& rows) {
  const std::size_t n = rows.topic.size();
  pk.pack_map(header.summary ? 19 : 18);
  pack_str(pk, "v");
  pk.pack_int(header.summary ? kUplinkSummaryVersion : kUplinkFormatVersion);
  if (header.summary) {
    pack_str(pk, "kind");
    pack_str(pk, "summary");
  }
  pack_str(pk, "gw");
  pack_str(pk, gateway);
  pack_str(pk, "seq");
  pk.pack_uint64(header.seq);
  pack_str(pk, "prio");
  pack_str(pk, to_string(header.priority));
  pack_str(pk, "created");
  pk.pack_int64(header.created_ms);
  pack_str(pk, "n");
  pk.pack_uint64(n);
  pack_str(pk, "topics");
  pack_strs(pk, rows.topics.entries());
  pack_str(pk, "topic");
  pack_uints(pk, rows.topic);
  pack_str(pk, "devices");
  pack_strs(pk, rows.devices.entries());
  pack_str(pk, "device");
  pack_uints(pk, rows.device);
  pack_str(pk, "src");
  pack_uints(pk, rows.src);
  pack_str(pk, "flags");
  pack_uints(pk, rows.flags);
  pack_str(pk, "rx");
  pk.pack_array(static_cast<uint32_t>(n));
  for (const int64_t d : rows.rx_delta) pk.pack_int64(d);
  pack_str(pk, "ts");
  pk.pack_array(static_cast<uint32_t>(n));
  for (const auto& d : rows.ts_delta) {
    if (d) {
      pk.pack_int64(*d);
    } else {
      pk.pack_nil();
    }
  }
  pack_str(pk, "schemas");
  rows.schemas.pack_keys(pk);
  pack_str(pk, "pschema");
  pk.pack_array(static_cast<uint32_t>(n));
  for (const int32_t s : rows.pschema) pk.pack_int32(s);
  pack_str(pk, "cols");
  rows.schemas.pack_columns(pk);
  pack_str(pk, "other");
  pk.pack_array(static_cast<uint32_t>(rows.other.size()));
  for (const msgpack::object& o : rows.other) pk.pack(o);
}

}  // namespace

// Payload objects live in `zone` or point into the messages' payloads, which
// `items` keeps alive until packing is done.
Result<EncodedBatch> encode_batch(const BatchHeader& header, std::span<const BatchItem> items,
                                  int zlib_level) {
  if (items.size() > std::numeric_limits<uint32_t>::max()) {
    return encode_error(std::to_string(items.size()) + " messages in one batch");
  }
  if (header.gateway.size() > kMaxStr) return encode_error("gateway id larger than 4 GiB");
  EncodedBatch out;
  out.messages = static_cast<uint32_t>(items.size());
  try {
    msgpack::zone zone;
    Rows rows;
    int64_t prev_rx = 0;
    int64_t prev_ts = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].message) return encode_error("message " + std::to_string(i) + " is null");
      auto r = add_message(items[i], i, rows, prev_rx, prev_ts, zone, header.summary);
      if (!r) return unexpected(r.error());
      out.raw_bytes += items[i].message->topic.size() + items[i].message->payload.size();
    }
    std::string gateway = header.gateway;
    sanitize_utf8(gateway);
    msgpack::sbuffer doc;
    BatchPacker pk(doc);
    pack_batch(pk, header, gateway, rows);
    auto compressed = zlib_compress(std::string_view(doc.data(), doc.size()), zlib_level);
    if (!compressed) return encode_error(compressed.error().detail);
    out.bytes = std::move(*compressed);
  } catch (const std::exception& e) {  // bad_alloc from the zone or the buffer
    return encode_error(e.what());
  }
  return out;
}

}  // namespace foggate::protocols
