// What the uplink codec tests share (uplink_codec_*_test.cpp): building
// batch items, encoding them, and looking inside an encoded batch.
#pragma once

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <zlib.h>

#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "foggate/protocols/json.h"
#include "foggate/protocols/uplink_codec.h"

namespace foggate::protocols::uplink_test {

using Packer = msgpack::packer<msgpack::sbuffer>;

using Packer = msgpack::packer<msgpack::sbuffer>;

// --- building messages -----------------------------------------------------

struct Spec {
  std::string topic = "sensors/dev-1/temp";
  std::string device = "dev-1";
  PayloadFormat format = PayloadFormat::kJson;
  std::string payload = "{}";
  int64_t received_ms = 1'700'000'000'000;
  int64_t sensor_ts_ms = 0;
  Source source = Source::kMqtt;
  uint32_t flags = 0;
};

inline BatchItem item(const Spec& s) {
  auto m = std::make_shared<Message>();
  m->topic = s.topic;
  m->device = s.device;
  m->format = s.format;
  m->payload = s.payload;
  m->received_ms = s.received_ms;
  m->sensor_ts_ms = s.sensor_ts_ms;
  m->source = s.source;
  return BatchItem{std::move(m), s.flags};
}

inline BatchItem json_item(std::string payload, int64_t received_ms = 1'700'000'000'000) {
  Spec s;
  s.payload = std::move(payload);
  s.received_ms = received_ms;
  return item(s);
}

inline std::string msgpack_bytes(const std::function<void(Packer&)>& write) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  write(pk);
  return std::string(buf.data(), buf.size());
}

inline BatchHeader header(Priority p = Priority::kNormal) {
  BatchHeader h;
  h.gateway = "gw-7";
  h.seq = 42;
  h.priority = p;
  h.created_ms = 1'700'000'000'500;
  return h;
}

inline EncodedBatch encode(const std::vector<BatchItem>& items, const BatchHeader& h = header()) {
  auto r = encode_batch(h, items);
  EXPECT_TRUE(r) << r.error().reason << ": " << r.error().detail;
  return r ? std::move(*r) : EncodedBatch{};
}

inline std::vector<JsonValue> round_trip(const std::vector<BatchItem>& items,
                                  const BatchHeader& h = header()) {
  const EncodedBatch b = encode(items, h);
  EXPECT_EQ(b.messages, items.size());
  auto d = decode_batch(b.bytes);
  EXPECT_TRUE(d) << d.error().reason << ": " << d.error().detail;
  if (!d) return {};
  EXPECT_EQ(d->size(), items.size());
  return std::move(*d);
}

inline std::string payload_json(const JsonValue& m) {
  const JsonValue* p = m.find("payload");
  return p == nullptr ? "<none>" : to_json(*p);
}

inline double number_at(const JsonValue& m, std::string_view key) {
  const JsonValue* p = m.find("payload");
  const JsonValue* v = p == nullptr ? nullptr : p->find(key);
  if (v == nullptr || !v->is_number()) {
    ADD_FAILURE() << "no number " << key << " in " << to_json(m);
    return std::nan("");
  }
  return v->as_number();
}

// --- looking inside a batch --------------------------------------------------

inline std::string deflate_all(std::string_view data, int level = 6) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                      reinterpret_cast<const Bytef*>(data.data()), data.size(), level),
            Z_OK);
  out.resize(size);
  return out;
}

inline std::string inflate_all(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(inflateInit(&z), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

inline msgpack::object_handle open_doc(const EncodedBatch& b) {
  const std::string doc = inflate_all(b.bytes);
  return msgpack::unpack(doc.data(), doc.size());  // copies: the handle owns its strings
}

inline const msgpack::object& at(const msgpack::object& map, std::string_view key) {
  static const msgpack::object kNil;
  if (map.type != msgpack::type::MAP) return kNil;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      return kv.val;
    }
  }
  ADD_FAILURE() << "no key " << key;
  return kNil;
}

inline const msgpack::object& element(const msgpack::object& array, std::size_t i) {
  static const msgpack::object kNil;
  if (array.type != msgpack::type::ARRAY || i >= array.via.array.size) {
    ADD_FAILURE() << "no element " << i;
    return kNil;
  }
  return array.via.array.ptr[i];
}

// "i", "e<k>" or "v": the shape of column j of schema s.
inline std::string shape(const msgpack::object& doc, std::size_t s, std::size_t j) {
  const msgpack::object& col = element(element(at(doc, "cols"), s), j);
  if (col.type != msgpack::type::MAP) return "<not a map>";
  std::string keys;
  for (uint32_t i = 0; i < col.via.map.size; ++i) {
    keys += col.via.map.ptr[i].key.as<std::string>();
  }
  if (keys == "ei") return "e" + std::to_string(at(col, "e").as<int>());
  return keys;
}

inline std::string doc_json(const msgpack::object& o) {
  std::ostringstream s;
  s << o;
  return s.str();
}


// --- hostile documents --------------------------------------------------------

// A batch document key by key, so that a test can break exactly one part.
// The base holds one message whose payload is {"a": 7}.
using Writer = std::function<void(Packer&)>;
struct DocKey {
  std::string key;
  Writer write;
};

template <typename T>
Writer value(T v) {
  return [v](Packer& p) { p.pack(v); };
}

inline std::vector<DocKey> base_doc() {
  return {
      {"v", value(1)},
      {"gw", value(std::string("gw"))},
      {"seq", value(1)},
      {"prio", value(std::string("normal"))},
      {"created", value(0)},
      {"n", value(1)},
      {"topics", value(std::vector<std::string>{"t"})},
      {"topic", value(std::vector<int>{0})},
      {"devices", value(std::vector<std::string>{"d"})},
      {"device", value(std::vector<int>{0})},
      {"src", value(std::vector<int>{0})},
      {"flags", value(std::vector<int>{0})},
      {"rx", value(std::vector<int>{5})},
      {"ts", [](Packer& p) {
         p.pack_array(1);
         p.pack_nil();
       }},
      {"schemas", value(std::vector<std::vector<std::string>>{{"a"}})},
      {"pschema", value(std::vector<int>{0})},
      {"cols", [](Packer& p) {
         p.pack_array(1);
         p.pack_array(1);
         p.pack_map(1);
         p.pack(std::string("i"));
         p.pack(std::vector<int>{7});
       }},
      {"other", [](Packer& p) { p.pack_array(0); }},
  };
}

inline void set(std::vector<DocKey>& doc, const std::string& key, Writer w) {
  for (auto& k : doc) {
    if (k.key == key) {
      k.write = std::move(w);
      return;
    }
  }
  doc.push_back({key, std::move(w)});
}

// The base document with its one message in "other", holding `payload`.
inline std::vector<DocKey> other_doc(Writer payload) {
  auto doc = base_doc();
  set(doc, "schemas", [](Packer& p) { p.pack_array(0); });
  set(doc, "cols", [](Packer& p) { p.pack_array(0); });
  set(doc, "pschema", value(std::vector<int>{-1}));
  set(doc, "other", [payload](Packer& p) {
    p.pack_array(1);
    payload(p);
  });
  return doc;
}

inline std::string pack_doc(const std::vector<DocKey>& doc) {
  return msgpack_bytes([&](Packer& p) {
    p.pack_map(static_cast<uint32_t>(doc.size()));
    for (const auto& k : doc) {
      p.pack(k.key);
      k.write(p);
    }
  });
}

// "" on success, else "reason: detail".
inline std::string decode_error(std::string_view bytes, const DecodeBatchLimits& limits = {}) {
  auto r = decode_batch(bytes, limits);
  if (r) return "";
  return r.error().reason + ": " + r.error().detail;
}

inline std::string doc_error(const std::vector<DocKey>& doc) {
  return decode_error(deflate_all(pack_doc(doc)));
}

}  // namespace foggate::protocols::uplink_test
