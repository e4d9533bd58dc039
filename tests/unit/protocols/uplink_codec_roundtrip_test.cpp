// The uplink batch format: what goes in comes out (uplink-format.md).
#include "uplink_codec_support.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace foggate::protocols::uplink_test {
namespace {

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


}  // namespace
}  // namespace foggate::protocols::uplink_test
