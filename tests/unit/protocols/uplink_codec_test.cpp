#include "foggate/protocols/uplink_codec.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace foggate::protocols {
namespace {

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

BatchItem item(const Spec& s) {
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

BatchItem json_item(std::string payload, int64_t received_ms = 1'700'000'000'000) {
  Spec s;
  s.payload = std::move(payload);
  s.received_ms = received_ms;
  return item(s);
}

std::string msgpack_bytes(const std::function<void(Packer&)>& write) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  write(pk);
  return std::string(buf.data(), buf.size());
}

BatchHeader header(Priority p = Priority::kNormal) {
  BatchHeader h;
  h.gateway = "gw-7";
  h.seq = 42;
  h.priority = p;
  h.created_ms = 1'700'000'000'500;
  return h;
}

EncodedBatch encode(const std::vector<BatchItem>& items, const BatchHeader& h = header()) {
  auto r = encode_batch(h, items);
  EXPECT_TRUE(r) << r.error().reason << ": " << r.error().detail;
  return r ? std::move(*r) : EncodedBatch{};
}

std::vector<JsonValue> round_trip(const std::vector<BatchItem>& items,
                                  const BatchHeader& h = header()) {
  const EncodedBatch b = encode(items, h);
  EXPECT_EQ(b.messages, items.size());
  auto d = decode_batch(b.bytes);
  EXPECT_TRUE(d) << d.error().reason << ": " << d.error().detail;
  if (!d) return {};
  EXPECT_EQ(d->size(), items.size());
  return std::move(*d);
}

std::string payload_json(const JsonValue& m) {
  const JsonValue* p = m.find("payload");
  return p == nullptr ? "<none>" : to_json(*p);
}

double number_at(const JsonValue& m, std::string_view key) {
  const JsonValue* p = m.find("payload");
  const JsonValue* v = p == nullptr ? nullptr : p->find(key);
  if (v == nullptr || !v->is_number()) {
    ADD_FAILURE() << "no number " << key << " in " << to_json(m);
    return std::nan("");
  }
  return v->as_number();
}

// --- looking inside a batch --------------------------------------------------

std::string deflate_all(std::string_view data, int level = 6) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                      reinterpret_cast<const Bytef*>(data.data()), data.size(), level),
            Z_OK);
  out.resize(size);
  return out;
}

std::string inflate_all(std::string_view data) {
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

msgpack::object_handle open_doc(const EncodedBatch& b) {
  const std::string doc = inflate_all(b.bytes);
  return msgpack::unpack(doc.data(), doc.size());  // copies: the handle owns its strings
}

const msgpack::object& at(const msgpack::object& map, std::string_view key) {
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

const msgpack::object& element(const msgpack::object& array, std::size_t i) {
  static const msgpack::object kNil;
  if (array.type != msgpack::type::ARRAY || i >= array.via.array.size) {
    ADD_FAILURE() << "no element " << i;
    return kNil;
  }
  return array.via.array.ptr[i];
}

// "i", "e<k>" or "v": the shape of column j of schema s.
std::string shape(const msgpack::object& doc, std::size_t s, std::size_t j) {
  const msgpack::object& col = element(element(at(doc, "cols"), s), j);
  if (col.type != msgpack::type::MAP) return "<not a map>";
  std::string keys;
  for (uint32_t i = 0; i < col.via.map.size; ++i) {
    keys += col.via.map.ptr[i].key.as<std::string>();
  }
  if (keys == "ei") return "e" + std::to_string(at(col, "e").as<int>());
  return keys;
}

std::string doc_json(const msgpack::object& o) {
  std::ostringstream s;
  s << o;
  return s.str();
}

// --- round trips --------------------------------------------------------------

TEST(UplinkCodecTest, MixedFormatsRoundTrip) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"t":21.5,"ok":true})", 1000));
  Spec mp;
  mp.format = PayloadFormat::kMsgpack;
  mp.payload = msgpack_bytes([](Packer& p) {
    p.pack_map(2);
    p.pack(std::string("t"));
    p.pack(22.5);
    p.pack(std::string("ok"));
    p.pack(false);
  });
  mp.received_ms = 1010;
  mp.source = Source::kCoap;
  mp.topic = "sensors/dev-2";
  mp.device = "dev-2";
  mp.sensor_ts_ms = 990;
  items.push_back(item(mp));
  Spec num;
  num.format = PayloadFormat::kNumber;
  num.payload = " 17.25\n";
  num.received_ms = 1005;  // the wall clock may step back
  items.push_back(item(num));
  Spec nested;
  nested.payload = R"({"env":{"t":1},"list":[1,"a",null]})";
  nested.flags = kFlagOffloaded;
  items.push_back(item(nested));

  const auto out = round_trip(items, header(Priority::kHigh));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(to_json(out[0]),
            R"({"gateway":"gw-7","seq":42,"priority":"high","created_ms":1700000000500,)"
            R"("device":"dev-1","topic":"sensors/dev-1/temp","source":"mqtt","received_ms":1000,)"
            R"("flags":0,"payload":{"t":21.5,"ok":true}})");
  EXPECT_EQ(to_json(out[1]),
            R"({"gateway":"gw-7","seq":42,"priority":"high","created_ms":1700000000500,)"
            R"("device":"dev-2","topic":"sensors/dev-2","source":"coap","sensor_ts_ms":990,)"
            R"("received_ms":1010,"flags":0,"payload":{"t":22.5,"ok":false}})");
  EXPECT_EQ(payload_json(out[2]), "17.25");
  EXPECT_EQ(out[2].find("received_ms")->as_number(), 1005);
  EXPECT_EQ(payload_json(out[3]), R"({"env":{"t":1},"list":[1,"a",null]})");
  EXPECT_EQ(out[3].find("flags")->as_number(), kFlagOffloaded);
}

TEST(UplinkCodecTest, FlatMapsTravelAsColumnsWithExactValues) {
  // One schema; every key picks its own column shape.
  const std::vector<std::string> rows = {
      R"({"t":55.12,"n":1,"x":1234.5678,"tiny":1e-9,"tinier":1e-10,)"
      R"("third":0.30000000000000004,"s":"a","b":true,"z":null})",
      R"({"t":-0.5,"n":-2,"x":0.001,"tiny":1e-9,"tinier":1e-10,)"
      R"("third":0.1,"s":"b","b":false,"z":null})",
      R"({"t":0.1,"n":3000000000,"x":-7,"tiny":1e-9,"tinier":1e-10,)"
      R"("third":0.2,"s":"a","b":true,"z":1})",
      R"({"t":55,"n":0,"x":1e-3,"tiny":1e-9,"tinier":1e-10,)"
      R"("third":0.3,"s":"","b":true,"z":"q"})",
  };
  std::vector<BatchItem> items;
  for (const auto& r : rows) items.push_back(json_item(r));
  const EncodedBatch b = encode(items);
  auto handle = open_doc(b);
  const msgpack::object& doc = handle.get();
  ASSERT_EQ(at(doc, "schemas").via.array.size, 1u) << doc_json(doc);
  EXPECT_EQ(shape(doc, 0, 0), "e2");  // t
  EXPECT_EQ(shape(doc, 0, 1), "i");   // n
  EXPECT_EQ(shape(doc, 0, 2), "e4");  // x
  EXPECT_EQ(shape(doc, 0, 3), "e9");  // tiny: 1 / 10^9 rounds to the double 1e-9
  EXPECT_EQ(shape(doc, 0, 4), "v");   // tinier: no k <= 9 holds it
  EXPECT_EQ(shape(doc, 0, 5), "v");   // third: 17 significant digits
  EXPECT_EQ(shape(doc, 0, 6), "v");
  EXPECT_EQ(shape(doc, 0, 7), "v");
  EXPECT_EQ(shape(doc, 0, 8), "v");
  EXPECT_EQ(doc_json(at(at(doc, "cols").via.array.ptr[0].via.array.ptr[0], "i")),
            "[5512,-5562,60,5490]");

  auto out = decode_batch(b.bytes);
  ASSERT_TRUE(out) << out.error().detail;
  ASSERT_EQ(out->size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto expected = parse_json(rows[i]);
    ASSERT_TRUE(expected);
    EXPECT_EQ(payload_json((*out)[i]), to_json(*expected));
    // Bit for bit, not just as printed.
    for (const auto& [key, value] : expected->members()) {
      if (!value.is_number()) continue;
      EXPECT_EQ(number_at((*out)[i], key), value.as_number()) << "row " << i << " key " << key;
    }
  }
}

TEST(UplinkCodecTest, DecimalsRoundTripBitForBit) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> mantissa(-99'999'999, 99'999'999);
  std::vector<double> values = {0.1, 0.2, 0.3, 55.12, -0.5, 1e-3, 1234.5678, 1e-9, 123456.789,
                                -99999.99999, 4503599.627370497};
  for (int i = 0; i < 300; ++i) {
    const int k = 1 + i % 9;
    values.push_back(static_cast<double>(mantissa(rng)) / std::pow(10.0, k));
  }
  std::vector<BatchItem> items;
  for (const double v : values) {
    std::string text;
    append_json_number(text, v);
    items.push_back(json_item("{\"v\":" + text + "}"));
  }
  const auto out = round_trip(items);
  ASSERT_EQ(out.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(number_at(out[i], "v"), values[i]) << i;
  }
}

TEST(UplinkCodecTest, SeveralSchemasKeepTheirOrderAndRows) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"t":1.5,"h":40})"));
  items.push_back(json_item(R"({"h":41,"t":1.25})"));  // other key order: another schema
  items.push_back(json_item(R"([1,2])"));
  items.push_back(json_item(R"({"t":1.75,"h":42})"));
  items.push_back(json_item(R"({})"));
  items.push_back(json_item(R"({"state":"open"})"));
  const EncodedBatch b = encode(items);
  auto handle = open_doc(b);
  EXPECT_EQ(doc_json(at(handle.get(), "schemas")), R"([["t","h"],["h","t"],[],["state"]])");
  EXPECT_EQ(doc_json(at(handle.get(), "pschema")), "[0,1,-1,0,2,3]");
  EXPECT_EQ(doc_json(at(handle.get(), "other")), "[[1,2]]");

  auto out = decode_batch(b.bytes);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 6u);
  EXPECT_EQ(payload_json((*out)[0]), R"({"t":1.5,"h":40})");
  EXPECT_EQ(payload_json((*out)[1]), R"({"h":41,"t":1.25})");
  EXPECT_EQ(payload_json((*out)[2]), "[1,2]");
  EXPECT_EQ(payload_json((*out)[3]), R"({"t":1.75,"h":42})");
  EXPECT_EQ(payload_json((*out)[4]), "{}");
  EXPECT_EQ(payload_json((*out)[5]), R"({"state":"open"})");
}

TEST(UplinkCodecTest, NestedArraysAndBareValuesGoToOther) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"a":{"b":{"c":[1,2.5,"x",{"d":null}]}}})"));
  items.push_back(json_item("[]"));
  items.push_back(json_item("12"));
  items.push_back(json_item("-0.25"));
  items.push_back(json_item("\"text\""));
  items.push_back(json_item("true"));
  items.push_back(json_item("null"));
  items.push_back(json_item("12345678901234567890"));  // integral but above 2^53: a float
  const auto out = round_trip(items);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(payload_json(out[0]), R"({"a":{"b":{"c":[1,2.5,"x",{"d":null}]}}})");
  EXPECT_EQ(payload_json(out[1]), "[]");
  EXPECT_EQ(payload_json(out[2]), "12");
  EXPECT_EQ(payload_json(out[3]), "-0.25");
  EXPECT_EQ(payload_json(out[4]), "\"text\"");
  EXPECT_EQ(payload_json(out[5]), "true");
  EXPECT_EQ(payload_json(out[6]), "null");
  EXPECT_EQ(out[7].find("payload")->as_number(), 12345678901234567890.0);
  for (const auto& m : out) EXPECT_EQ(m.find("flags")->as_number(), 0);
}

TEST(UplinkCodecTest, UndecodablePayloadsTravelRawAndFlagged) {
  std::vector<BatchItem> items;
  items.push_back(json_item("{\"t\":"));  // truncated JSON
  Spec number;
  number.format = PayloadFormat::kNumber;
  number.payload = "12abc";
  items.push_back(item(number));
  Spec bad_msgpack;
  bad_msgpack.format = PayloadFormat::kMsgpack;
  bad_msgpack.payload = std::string("\x82\xa1t\x01", 4);  // map of 2, one entry
  items.push_back(item(bad_msgpack));
  Spec binary;
  binary.format = PayloadFormat::kAuto;
  binary.payload = std::string("\x00\xff\xc1garbage", 10);
  items.push_back(item(binary));
  Spec forced = binary;
  forced.format = PayloadFormat::kJson;
  forced.payload = R"({"t":1})";
  forced.flags = kFlagRaw | kFlagOffloaded;  // the caller asks for raw
  items.push_back(item(forced));
  Spec empty;
  empty.payload = "";
  items.push_back(item(empty));

  const auto out = round_trip(items);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(payload_json(out[0]), R"({"raw_base64":"eyJ0Ijo="})");
  EXPECT_EQ(payload_json(out[1]), R"({"raw_base64":"MTJhYmM="})");
  EXPECT_EQ(payload_json(out[2]), R"({"raw_base64":"gqF0AQ=="})");
  EXPECT_EQ(payload_json(out[3]), R"({"raw_base64":"AP/BZ2FyYmFnZQ=="})");
  EXPECT_EQ(payload_json(out[4]), R"({"raw_base64":"eyJ0IjoxfQ=="})");
  EXPECT_EQ(payload_json(out[5]), R"({"raw_base64":""})");
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double flags = out[i].find("flags")->as_number();
    EXPECT_EQ(flags, i == 4 ? kFlagRaw | kFlagOffloaded : kFlagRaw) << i;
  }
}

TEST(UplinkCodecTest, MsgpackPayloadsTheFormatCannotCarryTravelRaw) {
  auto msgpack_item = [](const std::function<void(Packer&)>& write) {
    Spec s;
    s.format = PayloadFormat::kMsgpack;
    s.payload = msgpack_bytes(write);
    return item(s);
  };
  std::vector<BatchItem> items;
  items.push_back(msgpack_item([](Packer& p) {  // int key
    p.pack_map(1);
    p.pack(1);
    p.pack(2);
  }));
  items.push_back(msgpack_item([](Packer& p) {  // ext value
    p.pack_map(1);
    p.pack(std::string("e"));
    p.pack_ext(1, 5);
    p.pack_ext_body("\x01", 1);
  }));
  items.push_back(msgpack_item([](Packer& p) {  // duplicate key
    p.pack_map(2);
    p.pack(std::string("a"));
    p.pack(1);
    p.pack(std::string("a"));
    p.pack(2);
  }));
  items.push_back(msgpack_item([](Packer& p) {  // not UTF-8
    p.pack_map(1);
    p.pack(std::string("s"));
    p.pack_str(2);
    p.pack_str_body("\xc3\x28", 2);
  }));
  items.push_back(msgpack_item([](Packer& p) {  // fine: bin, float32, uint64 max, nesting
    p.pack_map(4);
    p.pack(std::string("bin"));
    p.pack_bin(3);
    p.pack_bin_body("\x01\x02\x03", 3);
    p.pack(std::string("f"));
    p.pack_float(0.5f);
    p.pack(std::string("u"));
    p.pack(std::numeric_limits<uint64_t>::max());
    p.pack(std::string("n"));
    p.pack_array(1);
    p.pack_nil();
  }));
  items.push_back(msgpack_item([](Packer& p) {  // flat, with float32 and uint64 max
    p.pack_map(2);
    p.pack(std::string("f"));
    p.pack_float(0.1f);
    p.pack(std::string("u"));
    p.pack(std::numeric_limits<uint64_t>::max());
  }));
  const auto out = round_trip(items);
  ASSERT_EQ(out.size(), 6u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].find("flags")->as_number(), kFlagRaw) << i;
    EXPECT_NE(out[i].find("payload")->find("raw_base64"), nullptr) << i;
  }
  EXPECT_EQ(out[4].find("flags")->as_number(), 0);
  EXPECT_EQ(payload_json(out[4]),
            R"({"bin":{"raw_base64":"AQID"},"f":0.5,"u":18446744073709551616,"n":[null]})");
  EXPECT_EQ(number_at(out[5], "f"), static_cast<double>(0.1f));
  EXPECT_EQ(number_at(out[5], "u"), 18446744073709551615.0);
}

TEST(UplinkCodecTest, AutoFormatTriesJsonThenMsgpackThenNumber) {
  auto auto_item = [](std::string payload) {
    Spec s;
    s.format = PayloadFormat::kAuto;
    s.payload = std::move(payload);
    return item(s);
  };
  std::vector<BatchItem> items;
  items.push_back(auto_item(R"({"a":1})"));
  items.push_back(auto_item(msgpack_bytes([](Packer& p) {
    p.pack_map(1);
    p.pack(std::string("b"));
    p.pack(2.5);
  })));
  items.push_back(auto_item(" 7 "));
  items.push_back(auto_item("0x10"));
  const auto out = round_trip(items);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(payload_json(out[0]), R"({"a":1})");
  EXPECT_EQ(payload_json(out[1]), R"({"b":2.5})");
  EXPECT_EQ(payload_json(out[2]), "7");
  EXPECT_EQ(out[3].find("flags")->as_number(), kFlagRaw);
}

TEST(UplinkCodecTest, SensorTimestampsAreDeltaCodedAndMayBeAbsent) {
  std::vector<BatchItem> items;
  const int64_t ts[] = {0, 1'700'000'001'000, 0, 1'700'000'000'500, 1'700'000'002'000};
  for (std::size_t i = 0; i < std::size(ts); ++i) {
    Spec s;
    s.payload = R"({"t":1})";
    s.sensor_ts_ms = ts[i];
    s.received_ms = 1'700'000'003'000 + static_cast<int64_t>(i) * 7;
    items.push_back(item(s));
  }
  const EncodedBatch b = encode(items);
  auto handle = open_doc(b);
  EXPECT_EQ(doc_json(at(handle.get(), "ts")), "[null,1700000001000,null,-500,1500]");
  EXPECT_EQ(doc_json(at(handle.get(), "rx")), "[1700000003000,7,7,7,7]");

  auto out = decode_batch(b.bytes);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), std::size(ts));
  for (std::size_t i = 0; i < std::size(ts); ++i) {
    const JsonValue* v = (*out)[i].find("sensor_ts_ms");
    if (ts[i] == 0) {
      EXPECT_EQ(v, nullptr) << i;
    } else {
      ASSERT_NE(v, nullptr) << i;
      EXPECT_EQ(v->as_number(), static_cast<double>(ts[i]));
    }
    EXPECT_EQ((*out)[i].find("received_ms")->as_number(),
              1'700'000'003'000.0 + static_cast<double>(i) * 7);
  }
}

TEST(UplinkCodecTest, EmptyBatchDecodesToNoMessages) {
  const EncodedBatch b = encode({});
  EXPECT_EQ(b.messages, 0u);
  EXPECT_EQ(b.raw_bytes, 0u);
  auto handle = open_doc(b);
  EXPECT_EQ(at(handle.get(), "n").as<int>(), 0);
  auto out = decode_batch(b.bytes);
  ASSERT_TRUE(out) << out.error().detail;
  EXPECT_TRUE(out->empty());
}

TEST(UplinkCodecTest, CriticalSingleMessageBatch) {
  Spec s;
  s.topic = "alarms/press-3/overpressure";
  s.device = "press-3";
  s.payload = R"({"bar":312.5,"level":"critical"})";
  s.sensor_ts_ms = 1'700'000'000'001;
  const auto item0 = item(s);
  const EncodedBatch b = encode({item0}, header(Priority::kCritical));
  EXPECT_EQ(b.raw_bytes, s.topic.size() + s.payload.size());
  auto out = decode_batch(b.bytes);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(to_json((*out)[0]),
            R"({"gateway":"gw-7","seq":42,"priority":"critical","created_ms":1700000000500,)"
            R"("device":"press-3","topic":"alarms/press-3/overpressure","source":"mqtt",)"
            R"("sensor_ts_ms":1700000000001,"received_ms":1700000000000,"flags":0,)"
            R"("payload":{"bar":312.5,"level":"critical"}})");
}

TEST(UplinkCodecTest, InvalidUtf8TopicIsRepairedNotFatal) {
  Spec s;
  s.source = Source::kCoap;
  s.topic = "sensors/\xff\xfe";
  s.device = "\xff\xfe";
  const auto out = round_trip({item(s)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].find("topic")->as_string(), "sensors/\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(out[0].find("device")->as_string(), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(UplinkCodecTest, EncodeRejectsNullMessagesAndBadLevels) {
  std::vector<BatchItem> items(1);
  auto r = encode_batch(header(), items);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "uplink_encode");
  auto bad_level = encode_batch(header(), {}, 11);
  ASSERT_FALSE(bad_level);
  EXPECT_EQ(bad_level.error().reason, "uplink_encode");
}

// --- hostile batches ------------------------------------------------------------

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

std::vector<DocKey> base_doc() {
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

void set(std::vector<DocKey>& doc, const std::string& key, Writer w) {
  for (auto& k : doc) {
    if (k.key == key) {
      k.write = std::move(w);
      return;
    }
  }
  doc.push_back({key, std::move(w)});
}

// The base document with its one message in "other", holding `payload`.
std::vector<DocKey> other_doc(Writer payload) {
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

std::string pack_doc(const std::vector<DocKey>& doc) {
  return msgpack_bytes([&](Packer& p) {
    p.pack_map(static_cast<uint32_t>(doc.size()));
    for (const auto& k : doc) {
      p.pack(k.key);
      k.write(p);
    }
  });
}

// "" on success, else "reason: detail".
std::string decode_error(std::string_view bytes, const DecodeBatchLimits& limits = {}) {
  auto r = decode_batch(bytes, limits);
  if (r) return "";
  return r.error().reason + ": " + r.error().detail;
}

std::string doc_error(const std::vector<DocKey>& doc) {
  return decode_error(deflate_all(pack_doc(doc)));
}

TEST(UplinkCodecTest, HostileBaseDocumentIsValid) {
  auto out = decode_batch(deflate_all(pack_doc(base_doc())));
  ASSERT_TRUE(out) << out.error().detail;
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(payload_json((*out)[0]), R"({"a":7})");
}

TEST(UplinkCodecTest, RejectsWhatIsNotOneZlibStream) {
  EXPECT_EQ(decode_error("").substr(0, 5), "zlib:");
  EXPECT_EQ(decode_error("not zlib at all").substr(0, 5), "zlib:");
  const EncodedBatch b = encode({json_item(R"({"t":1})")});
  for (std::size_t cut : {std::size_t{1}, std::size_t{2}, b.bytes.size() / 2, b.bytes.size() - 1}) {
    EXPECT_EQ(decode_error(std::string_view(b.bytes).substr(0, cut)), "zlib: truncated stream")
        << cut;
  }
  EXPECT_EQ(decode_error(b.bytes + "x"), "zlib: 1 bytes after the end of the zlib stream");
  EXPECT_EQ(decode_error(b.bytes + b.bytes).substr(0, 5), "zlib:");
  std::string flipped = b.bytes;
  flipped[flipped.size() - 1] = static_cast<char>(flipped.back() ^ 1);  // Adler-32
  EXPECT_EQ(decode_error(flipped).substr(0, 5), "zlib:");
}

TEST(UplinkCodecTest, ZlibBombStopsAtTheOutputLimit) {
  const std::string zeros(100u << 20, '\0');
  const std::string bomb = deflate_all(zeros, 1);
  ASSERT_LT(bomb.size(), 1u << 20);  // 457 KB at level 1: 230 to 1
  DecodeBatchLimits limits;
  limits.max_output_bytes = 1u << 20;
  EXPECT_EQ(decode_error(bomb, limits).substr(0, 10), "too_large:");
  // At the default 64 MiB it is still too large.
  EXPECT_EQ(decode_error(bomb).substr(0, 10), "too_large:");
}

TEST(UplinkCodecTest, RejectsZlibOfSomethingElse) {
  EXPECT_EQ(decode_error(deflate_all("")).substr(0, 13), "batch_format:");
  EXPECT_EQ(decode_error(deflate_all("hello, world")).substr(0, 13), "batch_format:");
  EXPECT_EQ(decode_error(deflate_all(R"({"v":1})")).substr(0, 13), "batch_format:");
  EXPECT_EQ(decode_error(deflate_all(msgpack_bytes([](Packer& p) { p.pack(1); }))),
            "batch_format: document is not a map");
  // Two documents back to back.
  EXPECT_EQ(decode_error(deflate_all(pack_doc(base_doc()) + pack_doc(base_doc()))).substr(0, 13),
            "batch_format:");
}

TEST(UplinkCodecTest, RejectsOtherVersions) {
  auto doc = base_doc();
  set(doc, "v", value(3));
  EXPECT_EQ(doc_error(doc), "batch_version: version 3");
  // Only the version is read when it is unknown.
  set(doc, "cols", value(std::string("whatever")));
  EXPECT_EQ(doc_error(doc), "batch_version: version 3");
  set(doc, "v", value(std::string("1")));
  EXPECT_EQ(doc_error(doc), "batch_format: v is missing or not a uint");
}

TEST(UplinkCodecTest, RejectsIndexesOutOfRange) {
  auto doc = base_doc();
  set(doc, "topic", value(std::vector<int>{1}));
  EXPECT_EQ(doc_error(doc), "batch_format: topic[0] is not a uint below 1");
  doc = base_doc();
  set(doc, "device", value(std::vector<int>{-1}));
  EXPECT_EQ(doc_error(doc), "batch_format: device[0] is not a uint below 1");
  doc = base_doc();
  set(doc, "src", value(std::vector<int>{2}));
  EXPECT_EQ(doc_error(doc), "batch_format: src[0] is not a uint below 2");
  doc = base_doc();
  set(doc, "pschema", value(std::vector<int>{1}));
  EXPECT_EQ(doc_error(doc), "batch_format: pschema[0] is not -1 or a schema index below 1");
  doc = other_doc(value(1));
  set(doc, "other", [](Packer& p) { p.pack_array(0); });
  EXPECT_EQ(doc_error(doc), "batch_format: other has 0 elements, n is 1");
  EXPECT_EQ(doc_error(other_doc(value(1))), "");
}

TEST(UplinkCodecTest, RejectsArrayLengthsThatDisagreeWithN) {
  for (const char* key : {"topic", "device", "src", "flags", "rx", "pschema"}) {
    auto doc = base_doc();
    set(doc, key, value(std::vector<int>{0, 0}));
    EXPECT_EQ(doc_error(doc), std::string("batch_format: ") + key + " has 2 elements, n is 1");
  }
  auto doc = base_doc();
  set(doc, "ts", value(std::vector<int>{}));
  EXPECT_EQ(doc_error(doc), "batch_format: ts has 0 elements, n is 1");
  doc = base_doc();
  set(doc, "cols", [](Packer& p) {  // a column with two values for one row
    p.pack_array(1);
    p.pack_array(1);
    p.pack_map(1);
    p.pack(std::string("i"));
    p.pack(std::vector<int>{7, 1});
  });
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0][0]: column does not hold 1 values");
  doc = base_doc();
  set(doc, "cols", value(std::vector<std::vector<int>>{{}}));  // no column for key "a"
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0] does not hold one column per key");
}

TEST(UplinkCodecTest, RejectsHugeN) {
  auto doc = base_doc();
  set(doc, "n", value(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(doc_error(doc), "batch_format: n is 18446744073709551615, limit 1000000");
  set(doc, "n", value(1'000'000));
  EXPECT_EQ(doc_error(doc), "batch_format: topic has 1 elements, n is 1000000");
  set(doc, "n", value(2));
  DecodeBatchLimits limits;
  limits.max_messages = 1;
  EXPECT_EQ(decode_error(deflate_all(pack_doc(doc)), limits), "batch_format: n is 2, limit 1");
}

TEST(UplinkCodecTest, RejectsMalformedColumnsAndDeltas) {
  auto column = [](const Writer& w) {
    return Writer([w](Packer& p) {
      p.pack_array(1);
      p.pack_array(1);
      w(p);
    });
  };
  auto doc = base_doc();
  set(doc, "cols", column([](Packer& p) {
        p.pack_map(2);
        p.pack(std::string("e"));
        p.pack(10);
        p.pack(std::string("i"));
        p.pack(std::vector<int>{7});
      }));
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0][0]: column \"e\" is not an int in 1..9");
  set(doc, "cols", column([](Packer& p) {
        p.pack_map(2);
        p.pack(std::string("v"));
        p.pack(std::vector<int>{7});
        p.pack(std::string("i"));
        p.pack(std::vector<int>{7});
      }));
  EXPECT_EQ(doc_error(doc).substr(0, 32), "batch_format: cols[0][0]: column");
  set(doc, "cols", column([](Packer& p) {
        p.pack_map(1);
        p.pack(std::string("i"));
        p.pack(std::vector<double>{7.5});
      }));
  EXPECT_EQ(doc_error(doc), "batch_format: cols[0][0]: column delta is not an int or overflows");

  doc = base_doc();
  set(doc, "n", value(2));
  for (const char* k : {"topic", "device", "src", "flags", "pschema"}) {
    set(doc, k, value(std::vector<int>{0, 0}));
  }
  set(doc, "ts", value(std::vector<int>{0, 0}));
  set(doc, "rx", value(std::vector<int64_t>{std::numeric_limits<int64_t>::max(), 1}));
  EXPECT_EQ(doc_error(doc), "batch_format: rx[1] is not an int delta (or overflows)");
}

TEST(UplinkCodecTest, RejectsWhatTheFormatDoesNotAllow) {
  auto doc = base_doc();
  set(doc, "prio", value(std::string("urgent")));
  EXPECT_EQ(doc_error(doc), "batch_format: prio is not a priority");
  doc = base_doc();
  set(doc, "schemas", value(std::vector<std::vector<std::string>>{{"a", "a"}}));
  set(doc, "cols", [](Packer& p) {
    p.pack_array(1);
    p.pack_array(2);
    for (int i = 0; i < 2; ++i) {
      p.pack_map(1);
      p.pack(std::string("i"));
      p.pack(std::vector<int>{7});
    }
  });
  EXPECT_EQ(doc_error(doc), "batch_format: schemas[0] repeats a key");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_ext(1, 3);
              p.pack_ext_body("\x01", 1);
            })),
            "batch_format: msgpack: ext value");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_map(1);
              p.pack(1);
              p.pack(1);
            })),
            "batch_format: msgpack: map key of type int");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_str(1);
              p.pack_str_body("\xff", 1);
            })),
            "batch_format: msgpack: string is not valid UTF-8");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              for (int i = 0; i < 32; ++i) p.pack_array(1);
              p.pack_nil();
            })),
            "");  // as deep as a JSON payload may be
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              for (int i = 0; i < 33; ++i) p.pack_array(1);
              p.pack_nil();
            })),
            "batch_format: msgpack: nested deeper than 34");
  EXPECT_EQ(doc_error(other_doc([](Packer& p) {
              p.pack_map(2);
              p.pack(std::string("k"));
              p.pack(1);
              p.pack(std::string("k"));
              p.pack(2);
            })),
            "batch_format: other[0]: map with duplicate keys");
  doc = base_doc();
  doc.erase(doc.begin() + 5);  // "n"
  EXPECT_EQ(doc_error(doc), "batch_format: missing key n");
}

TEST(UplinkCodecTest, LengthHeadersWithoutTheirElementsAllocateNothing) {
  // Thirty nested arrays each claiming 2^32-1 elements: were msgpack-c to see
  // this it would reserve ~100 GB per level before noticing the truncation.
  std::string doc = pack_doc(base_doc());
  std::string bomb = doc.substr(0, doc.size() - 1);  // drop "other"'s empty array
  for (int i = 0; i < 30; ++i) bomb += std::string("\xdd\xff\xff\xff\xff", 5);
  EXPECT_EQ(decode_error(deflate_all(bomb)), "batch_format: msgpack: truncated");
  std::string map_bomb = doc.substr(0, doc.size() - 1) + std::string("\xdf\xff\xff\xff\xff", 5);
  EXPECT_EQ(decode_error(deflate_all(map_bomb)), "batch_format: msgpack: truncated");
  std::string str_bomb = doc.substr(0, doc.size() - 1) + std::string("\xdb\xff\xff\xff\xff", 5);
  EXPECT_EQ(decode_error(deflate_all(str_bomb)), "batch_format: msgpack: truncated");
}

// Every single-byte change and every truncation of a real document must be
// either decoded or rejected; ASan/UBSan builds make this a memory check.
TEST(UplinkCodecTest, MutatedDocumentsNeverCrash) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"t":55.12,"n":3,"s":"x"})"));
  items.push_back(json_item(R"({"t":55.13,"n":4,"s":"y"})"));
  items.push_back(json_item(R"([1,{"a":null}])"));
  items.push_back(json_item("garbage{"));
  const std::string doc = inflate_all(encode(items).bytes);
  std::size_t decoded = 0, rejected = 0;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    for (const int b : {0x00, 0x01, 0x7f, 0x80, 0xc0, 0xc1, 0xcf, 0xd3, 0xdc, 0xdd, 0xde, 0xff}) {
      std::string m = doc;
      m[i] = static_cast<char>(b);
      (decode_batch(deflate_all(m, 1)) ? decoded : rejected)++;
    }
    (decode_batch(deflate_all(doc.substr(0, i), 1)) ? decoded : rejected)++;
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(decoded, 0u);
}

// --- the reference decoder ----------------------------------------------------

std::vector<BatchItem> varied_items() {
  std::vector<BatchItem> items;
  for (int i = 0; i < 6; ++i) {
    Spec s;
    s.topic = "sensors/machine-" + std::to_string(i % 3) + "/temp";
    s.device = "machine-" + std::to_string(i % 3);
    s.payload = "{\"t\":" + std::to_string(20 + i) + "." + std::to_string(i * 7 % 100) +
                ",\"ok\":" + (i % 2 ? "true" : "false") + ",\"id\":\"m" + std::to_string(i) + "\"}";
    s.received_ms = 1'700'000'000'000 + i * 250;
    s.sensor_ts_ms = i % 3 == 1 ? 0 : 1'700'000'000'000 + i * 240;
    s.source = i % 4 == 0 ? Source::kCoap : Source::kMqtt;
    items.push_back(item(s));
  }
  const char* others[] = {R"({"env":{"t":1.5,"h":[1,2,3]}})", "[1,2.5,\"x\",null,true]", "42",
                          "-1e-7",
                          "\"str\\u00e9\"", R"({"x":1e300,"y":-0.000001,"z":12345678901234567890})",
                          R"({"mixed":1})", R"({"mixed":"a"})", R"({"mixed":true})",
                          R"({"tiny":1e-10})",
                          R"({"third":0.30000000000000004})", R"({"unicode":"\u2603 snow"})"};
  for (const char* o : others) {
    Spec s;
    s.payload = o;
    s.received_ms = 1'700'000'001'000;
    items.push_back(item(s));
  }
  Spec raw;
  raw.payload = std::string("\x01\x02\xfe{", 4);
  raw.flags = kFlagOffloaded;
  items.push_back(item(raw));
  Spec mp;
  mp.format = PayloadFormat::kMsgpack;
  mp.payload = msgpack_bytes([](Packer& p) {
    p.pack_map(3);
    p.pack(std::string("f"));
    p.pack_float(0.1f);
    p.pack(std::string("b"));
    p.pack_bin(2);
    p.pack_bin_body("\xff\x00", 2);
    p.pack(std::string("u"));
    p.pack(std::numeric_limits<uint64_t>::max());
  });
  items.push_back(item(mp));
  return items;
}

// Runs `command`, returns its output lines; the command is bounded by
// timeout(1) so that a hung interpreter fails the test instead of hanging it.
std::vector<std::string> run_lines(const std::string& command, int& status) {
  std::vector<std::string> lines;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) {
    status = -1;
    return lines;
  }
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
    }
  }
  if (!line.empty()) lines.push_back(line);
  status = pclose(f);
  return lines;
}

const std::filesystem::path kPython = "/usr/bin/python3";  // Debian's, with python3-msgpack

// Runs examples/decode_batch.py on `batch` (through a temporary file).
std::vector<std::string> run_reference_decoder(const std::string& batch, int& status) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("foggate_uplink_" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(file, std::ios::binary);
    out.write(batch.data(), static_cast<std::streamsize>(batch.size()));
  }
  const auto script = std::filesystem::path(FOGGATE_SOURCE_DIR) / "examples/decode_batch.py";
  auto lines = run_lines(
      "timeout 60 " + kPython.string() + " " + script.string() + " " + file.string() + " 2>&1",
      status);
  std::filesystem::remove(file);
  return lines;
}

// examples/decode_batch.py prints the same documents as decode_batch(), one per line.
template <typename Decoded>
void expect_reference_decoder_agrees(const std::string& batch, const Decoded& ours) {
  int status = 0;
  const auto lines = run_reference_decoder(batch, status);
  ASSERT_EQ(status, 0) << (lines.empty() ? "" : lines.front());
  ASSERT_EQ(lines.size(), ours.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto theirs = parse_json(lines[i]);
    ASSERT_TRUE(theirs) << lines[i];
    EXPECT_EQ(to_json(*theirs), to_json(ours[i])) << "message " << i << "\npython: " << lines[i];
  }
}

TEST(UplinkCodecTest, ReferencePythonDecoderAgrees) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const auto items = varied_items();
  ASSERT_GE(items.size(), 20u);
  const EncodedBatch b = encode(items, header(Priority::kLow));
  auto ours = decode_batch(b.bytes);
  ASSERT_TRUE(ours) << ours.error().detail;

  expect_reference_decoder_agrees(b.bytes, *ours);
}

// Summary batches (issue #15) are version 2 with "kind": "summary" and the
// summary flag on every message; both decoders show "summary": true.
TEST(UplinkCodecTest, SummaryBatchesAreMarkedAndBothDecodersShowThem) {
  std::vector<BatchItem> items;
  items.push_back(json_item(R"({"field":"t","count":3,"min":1.5,"max":4,"mean":2.5,"first":2,"first_ts":10,"last":4,"last_ts":30})", 1000));
  items.push_back(json_item(R"({"field":"t","count":1,"min":7,"max":7,"mean":7,"first":7,"first_ts":20,"last":7,"last_ts":20})", 1000));
  items[1].flags = kFlagOffloaded;
  BatchHeader h = header(Priority::kLow);
  h.summary = true;
  const EncodedBatch b = encode(items, h);
  auto ours = decode_batch(b.bytes);
  ASSERT_TRUE(ours) << ours.error().detail;
  ASSERT_EQ(ours->size(), 2u);
  EXPECT_EQ(to_json((*ours)[0]),
            R"({"gateway":"gw-7","seq":42,"priority":"low","created_ms":1700000000500,)"
            R"("device":"dev-1","topic":"sensors/dev-1/temp","source":"mqtt","received_ms":1000,)"
            R"("flags":4,"summary":true,"payload":{"field":"t","count":3,"min":1.5,"max":4,"mean":2.5,)"
            R"("first":2,"first_ts":10,"last":4,"last_ts":30}})");
  EXPECT_EQ((*ours)[1].find("flags")->as_number(), kFlagSummary | kFlagOffloaded);
  // A full-resolution batch stays version 1 and has no "summary" key.
  auto plain = decode_batch(encode(items, header(Priority::kLow)).bytes);
  ASSERT_TRUE(plain);
  EXPECT_EQ((*plain)[0].find("summary"), nullptr);
  EXPECT_EQ((*plain)[0].find("flags")->as_number(), 0);

  if (std::filesystem::exists(kPython)) {
    expect_reference_decoder_agrees(b.bytes, *ours);
  }
}

TEST(UplinkCodecTest, RejectsVersion2WithoutTheSummaryKind) {
  auto doc = base_doc();
  set(doc, "v", value(2));
  EXPECT_EQ(doc_error(doc), "batch_format: kind is not \"summary\" in a version 2 batch");
}

TEST(UplinkCodecTest, ReferencePythonDecoderRejectsHostileBatches) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  auto doc = base_doc();
  set(doc, "topic", value(std::vector<int>{3}));
  int status = 0;
  const auto lines = run_reference_decoder(deflate_all(pack_doc(doc)), status);
  EXPECT_NE(status, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("batch_format: topic[0] is not a uint below 1"), std::string::npos)
      << lines[0];
}

// Not an assertion on size: prints what the format achieves on a typical
// sensor load (1000 readings from 100 devices).
TEST(UplinkCodecTest, CompressionOnTypicalSensorLoad) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<double> temp(100);
  for (std::size_t d = 0; d < temp.size(); ++d) temp[d] = 40.0 + static_cast<double>(d) * 0.3;
  std::vector<BatchItem> varying, constant;
  for (int i = 0; i < 1000; ++i) {
    const int d = i % 100;
    const int64_t ts = 1'700'000'000'123 + (i / 100) * 1000 + d * 3;
    temp[d] = std::round((temp[d] + noise(rng)) * 100) / 100;
    Spec s;
    s.topic = "sensors/machine-" + std::to_string(d) + "/temp";
    s.device = "machine-" + std::to_string(d);
    std::string t;
    append_json_number(t, temp[d]);
    s.payload = "{\"t\":" + t + ",\"ts\":" + std::to_string(ts) + "}";
    s.sensor_ts_ms = ts;
    s.received_ms = ts + 4 + i % 7;
    varying.push_back(item(s));
    s.payload = R"({"t":55.12,"ts":1700000000123})";
    constant.push_back(item(s));
  }
  for (const auto* load : {&varying, &constant}) {
    for (int level : {6, 9}) {
      const auto b = encode_batch(header(), *load, level);
      ASSERT_TRUE(b);
      auto out = decode_batch(b->bytes);
      ASSERT_TRUE(out);
      ASSERT_EQ(out->size(), 1000u);
      std::printf("[ uplink   ] %s load, zlib %d: raw_bytes %llu -> %zu bytes (%.2f%%)\n",
                  load == &varying ? "varying t" : "constant", level,
                  static_cast<unsigned long long>(b->raw_bytes), b->bytes.size(),
                  100.0 * static_cast<double>(b->bytes.size()) / static_cast<double>(b->raw_bytes));
    }
  }
  EXPECT_EQ(payload_json((*decode_batch(encode(varying).bytes))[0]), varying[0].message->payload);
}

}  // namespace
}  // namespace foggate::protocols
