// decode_batch, the consumer side of the uplink format; encode_batch is in
// uplink_codec.cpp.
#include "foggate/protocols/uplink_codec.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "uplink_columns.h"
#include "uplink_values.h"
#include "zlib_stream.h"

namespace foggate::protocols {
namespace {

// The root map, "other" and a payload nested as deep as a JSON payload may
// be (JsonLimits::max_depth); columns need five levels.
constexpr std::size_t kMaxDepth = JsonLimits{}.max_depth + 2;

Unexpected<Error> format_error(std::string detail) {
  return unexpected(Error::permanent("batch_format", std::move(detail)));
}

std::string_view str_of(const msgpack::object& o) { return {o.via.str.ptr, o.via.str.size}; }

// The root map's keys; the order is the one the encoder writes.
// kKind comes last: only version 2 (summary batches) has it.
enum Key { kV, kGw, kSeq, kPrio, kCreated, kN, kTopics, kTopic, kDevices, kDevice, kSrc,
           kFlags, kRx, kTs, kSchemas, kPschema, kCols, kOther, kKind, kKeyCount };
constexpr std::array<std::string_view, kKeyCount> kKeyNames = {
    "v",      "gw",  "seq",   "prio", "created", "n",       "topics", "topic",  "devices",
    "device", "src", "flags", "rx",   "ts",      "schemas", "pschema", "cols", "other", "kind"};

using Root = std::array<const msgpack::object*, kKeyCount>;

bool as_uint(const msgpack::object& o, uint64_t& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  out = o.via.u64;
  return true;
}

bool as_int(const msgpack::object& o, int64_t& out) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    out = o.via.i64;
    return true;
  }
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > INT64_MAX) return false;
  out = static_cast<int64_t>(o.via.u64);
  return true;
}

// The array under `key`, of exactly `size` elements unless size is npos.
Result<std::span<const msgpack::object>> array_at(const Root& root, Key key,
                                                  std::size_t size = std::string::npos) {
  const msgpack::object& o = *root[key];
  const std::string name(kKeyNames[key]);
  if (o.type != msgpack::type::ARRAY) return format_error(name + " is not an array");
  if (size != std::string::npos && o.via.array.size != size) {
    return format_error(name + " has " + std::to_string(o.via.array.size) + " elements, n is " +
                        std::to_string(size));
  }
  return std::span<const msgpack::object>(o.via.array.ptr, o.via.array.size);
}

// Strings of a dictionary ("topics", "devices").
Result<std::vector<std::string_view>> strings_at(const Root& root, Key key) {
  auto a = array_at(root, key);
  if (!a) return unexpected(a.error());
  std::vector<std::string_view> out;
  for (const msgpack::object& o : *a) {
    if (o.type != msgpack::type::STR) {
      return format_error(std::string(kKeyNames[key]) + " holds a non-string");
    }
    out.push_back(str_of(o));
  }
  return out;
}

// Indexes below `limit`, one per message.
Result<std::vector<uint32_t>> indexes_at(const Root& root, Key key, std::size_t n, uint64_t limit) {
  auto a = array_at(root, key, n);
  if (!a) return unexpected(a.error());
  std::vector<uint32_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    if (!as_uint((*a)[i], v) || v >= limit) {
      return format_error(std::string(kKeyNames[key]) + "[" + std::to_string(i) +
                          "] is not a uint below " + std::to_string(limit));
    }
    out.push_back(static_cast<uint32_t>(v));
  }
  return out;
}

// Delta-coded "rx" / "ts"; nil (ts only) stays absent.
Result<std::vector<std::optional<int64_t>>> times_at(const Root& root, Key key, std::size_t n) {
  auto a = array_at(root, key, n);
  if (!a) return unexpected(a.error());
  std::vector<std::optional<int64_t>> out;
  out.reserve(n);
  int64_t value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const msgpack::object& d = (*a)[i];
    if (key == kTs && d.type == msgpack::type::NIL) {
      out.emplace_back();
    } else if (add_delta(d, value)) {
      out.emplace_back(value);
    } else {
      return format_error(std::string(kKeyNames[key]) + "[" + std::to_string(i) +
                          "] is not an int delta (or overflows)");
    }
  }
  return out;
}

Result<Root> root_keys(const msgpack::object& doc) {
  if (doc.type != msgpack::type::MAP) return format_error("document is not a map");
  Root root{};
  for (uint32_t i = 0; i < doc.via.map.size; ++i) {
    const msgpack::object_kv& kv = doc.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return format_error("root key is not a string");
    for (std::size_t k = 0; k < kKeyCount; ++k) {
      if (kKeyNames[k] != str_of(kv.key)) continue;
      if (root[k] != nullptr) return format_error("key " + std::string(kKeyNames[k]) + " twice");
      root[k] = &kv.val;
    }
  }
  // The version first: a later version may lay out the rest differently.
  uint64_t version = 0;
  if (root[kV] == nullptr || !as_uint(*root[kV], version)) {
    return format_error("v is missing or not a uint");
  }
  if (version != static_cast<uint64_t>(kUplinkFormatVersion) &&
      version != static_cast<uint64_t>(kUplinkSummaryVersion)) {
    return unexpected(Error::permanent("batch_version", "version " + std::to_string(version)));
  }
  for (std::size_t k = 0; k < kKind; ++k) {
    if (root[k] == nullptr) return format_error("missing key " + std::string(kKeyNames[k]));
  }
  if (version == static_cast<uint64_t>(kUplinkSummaryVersion)) {
    if (root[kKind] == nullptr || root[kKind]->type != msgpack::type::STR || str_of(*root[kKind]) != "summary") {
      return format_error("kind is not \"summary\" in a version 2 batch");
    }
  } else {
    root[kKind] = nullptr;  // an unknown key to version 1: ignored
  }
  return root;
}

Result<std::vector<JsonValue>> decode_doc(const msgpack::object& doc,
                                          const DecodeBatchLimits& limits) {
  auto root_r = root_keys(doc);
  if (!root_r) return unexpected(root_r.error());
  const Root& root = *root_r;

  uint64_t seq = 0, n64 = 0;
  int64_t created = 0;
  if (root[kGw]->type != msgpack::type::STR) return format_error("gw is not a string");
  if (!as_uint(*root[kSeq], seq)) return format_error("seq is not a uint");
  if (root[kPrio]->type != msgpack::type::STR || !parse_priority(str_of(*root[kPrio]))) {
    return format_error("prio is not a priority");
  }
  if (!as_int(*root[kCreated], created)) return format_error("created is not an int");
  if (!as_uint(*root[kN], n64)) return format_error("n is not a uint");
  if (n64 > limits.max_messages) {
    return format_error("n is " + std::to_string(n64) + ", limit " +
                        std::to_string(limits.max_messages));
  }
  const auto n = static_cast<std::size_t>(n64);
  const bool summary = root[kKind] != nullptr;

  auto topics = strings_at(root, kTopics);
  if (!topics) return unexpected(topics.error());
  auto devices = strings_at(root, kDevices);
  if (!devices) return unexpected(devices.error());
  auto topic = indexes_at(root, kTopic, n, topics->size());
  if (!topic) return unexpected(topic.error());
  auto device = indexes_at(root, kDevice, n, devices->size());
  if (!device) return unexpected(device.error());
  auto src = indexes_at(root, kSrc, n, 2);
  if (!src) return unexpected(src.error());
  auto flags = indexes_at(root, kFlags, n, uint64_t{1} << 32);
  if (!flags) return unexpected(flags.error());
  auto rx = times_at(root, kRx, n);
  if (!rx) return unexpected(rx.error());
  auto ts = times_at(root, kTs, n);
  if (!ts) return unexpected(ts.error());

  // Schemas: key lists, then which rows use them, then their columns.
  auto schemas = array_at(root, kSchemas);
  if (!schemas) return unexpected(schemas.error());
  const std::size_t schema_count = schemas->size();
  auto pschema = array_at(root, kPschema, n);
  if (!pschema) return unexpected(pschema.error());
  std::vector<int64_t> row_schema(n);
  std::vector<std::size_t> rows_of(schema_count, 0);
  std::size_t other_count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    int64_t s = 0;
    if (!as_int((*pschema)[i], s) || s < -1 || s >= static_cast<int64_t>(schema_count)) {
      return format_error("pschema[" + std::to_string(i) + "] is not -1 or a schema index below " +
                          std::to_string(schema_count));
    }
    row_schema[i] = s;
    if (s < 0) {
      ++other_count;
    } else {
      ++rows_of[static_cast<std::size_t>(s)];
    }
  }
  auto cols = array_at(root, kCols, schema_count);
  if (!cols) return unexpected(cols.error());
  std::vector<std::vector<std::vector<JsonValue>>> columns(schema_count);
  for (std::size_t s = 0; s < schema_count; ++s) {
    const msgpack::object& keys = (*schemas)[s];
    const msgpack::object& col = (*cols)[s];
    const std::string where = "[" + std::to_string(s) + "]";
    if (keys.type != msgpack::type::ARRAY) {
      return format_error("schemas" + where + " is not an array");
    }
    if (col.type != msgpack::type::ARRAY || col.via.array.size != keys.via.array.size) {
      return format_error("cols" + where + " does not hold one column per key");
    }
    std::vector<std::string_view> sorted;
    sorted.reserve(keys.via.array.size);
    for (uint32_t j = 0; j < keys.via.array.size; ++j) {
      if (keys.via.array.ptr[j].type != msgpack::type::STR) {
        return format_error("schemas" + where + " holds a non-string");
      }
      sorted.push_back(str_of(keys.via.array.ptr[j]));
      auto column = decode_column(col.via.array.ptr[j], rows_of[s]);
      if (!column) {
        return format_error("cols" + where + "[" + std::to_string(j) + "]: " +
                            column.error().detail);
      }
      columns[s].push_back(std::move(*column));
    }
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return format_error("schemas" + where + " repeats a key");
    }
  }
  auto other = array_at(root, kOther, other_count);
  if (!other) return unexpected(other.error());

  const std::string gateway(str_of(*root[kGw]));
  const std::string priority(str_of(*root[kPrio]));
  std::vector<JsonValue> out;
  out.reserve(n);
  std::vector<std::size_t> next_row(schema_count, 0);
  std::size_t next_other = 0;
  for (std::size_t i = 0; i < n; ++i) {
    JsonValue m = JsonValue::object();
    m.set("gateway", JsonValue::string(gateway));
    m.set("seq", JsonValue::number(static_cast<double>(seq)));
    m.set("priority", JsonValue::string(priority));
    m.set("created_ms", JsonValue::number(static_cast<double>(created)));
    m.set("device", JsonValue::string(std::string((*devices)[(*device)[i]])));
    m.set("topic", JsonValue::string(std::string((*topics)[(*topic)[i]])));
    m.set("source", JsonValue::string((*src)[i] == 1 ? "coap" : "mqtt"));
    if ((*ts)[i]) m.set("sensor_ts_ms", JsonValue::number(static_cast<double>(*(*ts)[i])));
    m.set("received_ms", JsonValue::number(static_cast<double>(*(*rx)[i])));
    m.set("flags", JsonValue::number((*flags)[i]));
    if (summary) {
      if (((*flags)[i] & kFlagSummary) == 0) {
        return format_error("flags[" + std::to_string(i) + "] lacks the summary bit in a summary batch");
      }
      m.set("summary", JsonValue::boolean(true));
    }
    if (row_schema[i] < 0) {
      auto payload = json_from_msgpack((*other)[next_other]);
      if (!payload) {
        return format_error("other[" + std::to_string(next_other) + "]: " +
                            payload.error().detail);
      }
      ++next_other;
      m.set("payload", std::move(*payload));
    } else {
      const auto s = static_cast<std::size_t>(row_schema[i]);
      const std::size_t r = next_row[s]++;
      const msgpack::object& keys = (*schemas)[s];
      JsonValue payload = JsonValue::object();
      for (uint32_t j = 0; j < keys.via.array.size; ++j) {
        payload.set(std::string(str_of(keys.via.array.ptr[j])), std::move(columns[s][j][r]));
      }
      m.set("payload", std::move(payload));
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

// Hazard: the bytes come from the network (or a spool file). Every length
// and index below is checked before use; check_msgpack runs before
// msgpack-c allocates anything (see uplink_values.h), and no msgpack-c
// exception leaves this function.
Result<std::vector<JsonValue>> decode_batch(std::string_view bytes,
                                            const DecodeBatchLimits& limits) {
  auto doc = zlib_decompress(bytes, limits.max_output_bytes);
  if (!doc) return unexpected(doc.error());
  try {
    if (auto ok = check_msgpack(*doc, kMaxDepth); !ok) {
      return format_error("msgpack: " + ok.error().detail);
    }
    msgpack::zone zone;
    auto root = unpack_checked(*doc, kMaxDepth, zone);
    if (!root) return format_error("msgpack: " + root.error().detail);
    return decode_doc(*root, limits);
  } catch (const std::exception& e) {  // bad_alloc
    return format_error(e.what());
  }
}

}  // namespace foggate::protocols
