#include "foggate/protocols/payload_decoder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <string>

namespace foggate::protocols {
namespace {

Message make(std::string payload, std::string metric = "") {
  Message m;
  m.payload = std::move(payload);
  m.metric = std::move(metric);
  return m;
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

// Decodes and returns the error reason, or "" on success.
std::string reason(Message& m, const DecodeOptions& options = {}) {
  auto r = decode_payload(m, options);
  if (r) return "";
  EXPECT_TRUE(m.fields.empty()) << "fields left behind on " << r.error().reason;
  return r.error().reason;
}

std::string reason_of(std::string payload, const DecodeOptions& options = {}) {
  Message m = make(std::move(payload));
  return reason(m, options);
}

double number(const Message& m, std::string_view name) {
  const Field* f = m.field(name);
  if (f == nullptr || f->number() == nullptr) {
    ADD_FAILURE() << "no number field " << name;
    return -1;
  }
  return *f->number();
}

DecodeOptions with_format(PayloadFormat f) {
  DecodeOptions o;
  o.format = f;
  return o;
}

TEST(PayloadDecoderTest, JsonFlattensNestedObjects) {
  Message m = make(R"( {"env":{"t":21.5,"in":{"h":40}},"ok":true,"id":"abc","n":null,"x":-1} )");
  m.fields.push_back(Field{"stale", 1.0});
  ASSERT_EQ(reason(m), "");
  EXPECT_EQ(m.format, PayloadFormat::kJson);
  ASSERT_EQ(m.fields.size(), 5u);
  EXPECT_EQ(m.fields[0].name, "env.t");
  EXPECT_EQ(m.fields[1].name, "env.in.h");
  EXPECT_EQ(number(m, "env.t"), 21.5);
  EXPECT_EQ(number(m, "env.in.h"), 40);
  EXPECT_EQ(std::get<bool>(m.field("ok")->value), true);
  EXPECT_EQ(*m.field("id")->string(), "abc");
  EXPECT_EQ(m.field("n"), nullptr);
  EXPECT_EQ(m.fields[4].name, "x");
  EXPECT_EQ(m.sensor_ts_ms, 0);
}

TEST(PayloadDecoderTest, JsonSkipsArraysButCountsTheirDepth) {
  Message m = make(R"({"a":[1,{"b":2},[3,"s"]],"c":{"d":[]},"e":1})");
  ASSERT_EQ(reason(m), "");
  ASSERT_EQ(m.fields.size(), 1u);
  EXPECT_EQ(m.fields[0].name, "e");

  DecodeOptions o;
  o.max_depth = 2;
  EXPECT_EQ(reason_of(R"({"a":[1]})", o), "");
  EXPECT_EQ(reason_of(R"({"a":[[1]]})", o), "too_deep");
  EXPECT_EQ(reason_of(R"({"a":{"b":{"c":1}}})", o), "too_deep");
}

TEST(PayloadDecoderTest, TimestampSecondsOrMilliseconds) {
  Message s = make(R"({"ts":1700000000,"v":1})");
  ASSERT_EQ(reason(s), "");
  EXPECT_EQ(s.sensor_ts_ms, 1700000000000);
  EXPECT_EQ(number(s, "ts"), 1700000000);  // stays a field

  Message ms = make(R"({"ts":1700000000123})");
  ASSERT_EQ(reason(ms), "");
  EXPECT_EQ(ms.sensor_ts_ms, 1700000000123);

  Message frac = make(R"({"ts":1700000000.25})");
  ASSERT_EQ(reason(frac), "");
  EXPECT_EQ(frac.sensor_ts_ms, 1700000000250);

  DecodeOptions o;
  o.timestamp_field = "meta.time";
  Message nested = make(R"({"ts":"ignored","meta":{"time":99999999999}})");
  ASSERT_EQ(reason(nested, o), "");
  EXPECT_EQ(nested.sensor_ts_ms, 99999999999000);
}

TEST(PayloadDecoderTest, RejectsBadTimestamps) {
  for (const char* p : {R"({"ts":"now"})", R"({"ts":true})", R"({"ts":-1})",
                        R"({"ts":1e300})", R"({"v":1,"ts":-0.5})"}) {
    Message m = make(p);
    m.sensor_ts_ms = 7;
    EXPECT_EQ(reason(m), "bad_timestamp") << p;
    EXPECT_EQ(m.sensor_ts_ms, 7) << p;
  }
  DecodeOptions off;
  off.timestamp_field = "";
  EXPECT_EQ(reason_of(R"({"ts":"now"})", off), "");
  // A timestamp in an array is not a field, so it is not checked either.
  EXPECT_EQ(reason_of(R"({"a":[{"ts":"now"}]})"), "");
  EXPECT_EQ(reason_of(R"({"ts":0})"), "");
}

TEST(PayloadDecoderTest, JsonLimitsAndErrors) {
  DecodeOptions o;
  o.max_fields = 2;
  EXPECT_EQ(reason_of(R"({"a":1,"b":2,"n":null,"arr":[1,2,3]})", o), "");
  EXPECT_EQ(reason_of(R"({"a":1,"b":2,"c":3})", o), "too_many_fields");
  EXPECT_EQ(reason_of(R"({"a":1,"b":{"c":3,"d":4}})", o), "too_many_fields");

  o = {};
  o.max_string = 4;
  EXPECT_EQ(reason_of(R"({"abcd":"wxyz"})", o), "");
  EXPECT_EQ(reason_of(R"({"k":"abcde"})", o), "too_large");
  EXPECT_EQ(reason_of(R"({"abcde":1})", o), "too_large");

  o = {};
  o.max_bytes = 10;
  EXPECT_EQ(reason_of(R"({"ab":123})", o), "");
  Message big = make(R"({"ab":1234})");
  auto r = decode_payload(big, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "too_large");
  EXPECT_EQ(r.error().detail, "11 bytes, limit 10");

  Message bad = make(R"({"a":1,"b":})");
  auto e = decode_payload(bad, {});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().reason, "json_syntax");
  EXPECT_EQ(e.error().detail, "offset 11: expected value");
  EXPECT_TRUE(bad.fields.empty());
  EXPECT_EQ(bad.format, PayloadFormat::kJson);

  EXPECT_EQ(reason_of(R"({"a":"\q"})"), "json_syntax");
  EXPECT_EQ(reason_of(R"({"a":1,"a":2})"), "");  // hot path does not de-duplicate
}

TEST(PayloadDecoderTest, TopLevelMustBeAnObject) {
  const DecodeOptions json = with_format(PayloadFormat::kJson);
  EXPECT_EQ(reason_of("[1]", json), "not_an_object");
  EXPECT_EQ(reason_of("42", json), "not_an_object");
  EXPECT_EQ(reason_of(R"("s")", json), "not_an_object");
  EXPECT_EQ(reason_of("null", json), "not_an_object");
  EXPECT_EQ(reason_of("{x", json), "json_syntax");
  const DecodeOptions mp = with_format(PayloadFormat::kMsgpack);
  EXPECT_EQ(reason_of(bytes({0x05}), mp), "not_an_object");
  EXPECT_EQ(reason_of(bytes({0x92, 0x01, 0x02}), mp), "not_an_object");
}

TEST(PayloadDecoderTest, EmptyPayload) {
  EXPECT_EQ(reason_of(""), "empty");
  EXPECT_EQ(reason_of(" \r\n\t "), "empty");
  EXPECT_EQ(reason_of("", with_format(PayloadFormat::kMsgpack)), "empty");
}

TEST(PayloadDecoderTest, BareNumbers) {
  Message named = make(" 21.5\n", "temp");
  ASSERT_EQ(reason(named), "");
  EXPECT_EQ(named.format, PayloadFormat::kNumber);
  ASSERT_EQ(named.fields.size(), 1u);
  EXPECT_EQ(named.fields[0].name, "temp");
  EXPECT_EQ(number(named, "temp"), 21.5);

  Message plain = make("-3e2");
  ASSERT_EQ(reason(plain), "");
  ASSERT_EQ(plain.fields.size(), 1u);
  EXPECT_EQ(plain.fields[0].name, "value");
  EXPECT_EQ(number(plain, "value"), -300);

  for (const char* p : {"abc", "1 2", "nan", "inf", "-inf", "0x10", "1e999", "12abc", "+"}) {
    EXPECT_EQ(reason_of(p), "not_a_number") << p;
  }
  EXPECT_EQ(reason_of("{}", with_format(PayloadFormat::kNumber)), "not_a_number");
}

// {"t":21.5,"env":{"h":40,"ok":true},"s":"x","n":-5,"nil":nil,"arr":[1,2],"big":2^32}
const std::string kMsgpackDoc = bytes({
    0x87,
    0xa1, 't', 0xcb, 0x40, 0x35, 0x80, 0, 0, 0, 0, 0,
    0xa3, 'e', 'n', 'v', 0x82, 0xa1, 'h', 0x28, 0xa2, 'o', 'k', 0xc3,
    0xa1, 's', 0xa1, 'x',
    0xa1, 'n', 0xfb,
    0xa3, 'n', 'i', 'l', 0xc0,
    0xa3, 'a', 'r', 'r', 0x92, 0x01, 0x02,
    0xa3, 'b', 'i', 'g', 0xcf, 0, 0, 0, 1, 0, 0, 0, 0,
});

TEST(PayloadDecoderTest, MsgpackMapWithNestedMap) {
  Message m = make(kMsgpackDoc);
  ASSERT_EQ(reason(m), "");
  EXPECT_EQ(m.format, PayloadFormat::kMsgpack);
  ASSERT_EQ(m.fields.size(), 6u);
  EXPECT_EQ(m.fields[0].name, "t");
  EXPECT_EQ(number(m, "t"), 21.5);
  EXPECT_EQ(m.fields[1].name, "env.h");
  EXPECT_EQ(number(m, "env.h"), 40);
  EXPECT_EQ(std::get<bool>(m.field("env.ok")->value), true);
  EXPECT_EQ(*m.field("s")->string(), "x");
  EXPECT_EQ(number(m, "n"), -5);
  EXPECT_EQ(number(m, "big"), 4294967296.0);
  EXPECT_EQ(m.field("nil"), nullptr);
  EXPECT_EQ(m.field("arr"), nullptr);
}

TEST(PayloadDecoderTest, MsgpackTimestamp) {
  // {"ts": uint32 1700000000}
  Message m = make(bytes({0x81, 0xa2, 't', 's', 0xce, 0x65, 0x53, 0xf1, 0x00}));
  ASSERT_EQ(reason(m), "");
  EXPECT_EQ(m.sensor_ts_ms, 1700000000000);
  EXPECT_EQ(reason_of(bytes({0x81, 0xa2, 't', 's', 0xa1, 'x'})), "bad_timestamp");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa2, 't', 's', 0xff})), "bad_timestamp");  // -1
}

TEST(PayloadDecoderTest, MsgpackErrors) {
  Message key = make(bytes({0x81, 0x01, 0x02}));
  auto r = decode_payload(key, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "msgpack_syntax");
  EXPECT_EQ(r.error().detail, "map key of type int at top level");
  Message nested_key = make(bytes({0x81, 0xa1, 'a', 0x81, 0xc3, 0x01}));
  r = decode_payload(nested_key, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "map key of type bool under a");
  EXPECT_TRUE(nested_key.fields.empty());

  // Truncated at every possible length, none may succeed or crash.
  for (std::size_t n = 1; n < kMsgpackDoc.size(); ++n) {
    EXPECT_EQ(reason_of(kMsgpackDoc.substr(0, n)), "msgpack_syntax") << n;
  }
  EXPECT_EQ(reason_of(bytes({0x80, 0x00})), "msgpack_syntax");  // trailing byte
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0xc1})), "msgpack_syntax");  // reserved
}

TEST(PayloadDecoderTest, MsgpackHugeDeclaredLengthsFailCleanly) {
  const DecodeOptions mp = with_format(PayloadFormat::kMsgpack);
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff})), "msgpack_syntax");
  EXPECT_EQ(reason_of(bytes({0xdd, 0xff, 0xff, 0xff, 0xff}), mp), "msgpack_syntax");
  EXPECT_EQ(reason_of(bytes({0xdd, 0xff, 0xff, 0xff, 0xff})), "not_a_number");  // auto: not a map
  EXPECT_EQ(reason_of(bytes({0xdf, 0xff, 0xff, 0xff, 0xff})), "too_many_fields");
  // Strings and bins are only sized once all their bytes are there.
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff})), "msgpack_syntax");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0xc6, 0xff, 0xff, 0xff, 0xff})), "msgpack_syntax");
}

TEST(PayloadDecoderTest, MsgpackLimits) {
  DecodeOptions o;
  o.max_depth = 2;
  // {"a":{"b":1}} fits, {"a":{"b":{"c":1}}} does not; nor does an array at level 3.
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x01}), o), "");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x81, 0xa1, 'c', 0x01}), o),
            "too_deep");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x91, 0x01}), o), "too_deep");

  o = {};
  o.max_fields = 2;
  EXPECT_EQ(reason_of(bytes({0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02}), o), "");
  EXPECT_EQ(reason_of(bytes({0x83, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0xa1, 'c', 0x03}), o),
            "too_many_fields");
  EXPECT_EQ(reason_of(bytes({0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x82, 0xa1, 'c', 0x01, 0xa1,
                             'd', 0x01}),
                      o),
            "too_many_fields");

  o = {};
  o.max_string = 2;
  EXPECT_EQ(reason_of(bytes({0x81, 0xa2, 'a', 'b', 0xa2, 'c', 'd'}), o), "");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0xa3, 'c', 'd', 'e'}), o), "too_large");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa3, 'a', 'b', 'c', 0x01}), o), "too_large");
  EXPECT_EQ(reason_of(bytes({0x81, 0xa1, 'a', 0xc4, 0x03, 1, 2, 3}), o), "too_large");  // bin
}

TEST(PayloadDecoderTest, AutoDetectsAllFormats) {
  Message json = make("\n {\"v\":1}");
  ASSERT_EQ(reason(json), "");
  EXPECT_EQ(json.format, PayloadFormat::kJson);
  EXPECT_EQ(number(json, "v"), 1);

  for (const std::string& map : {bytes({0x81, 0xa1, 'v', 0x01}),
                                 bytes({0xde, 0x00, 0x01, 0xa1, 'v', 0x01}),
                                 bytes({0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 'v', 0x01})}) {
    Message mp = make(map);
    ASSERT_EQ(reason(mp), "");
    EXPECT_EQ(mp.format, PayloadFormat::kMsgpack);
    EXPECT_EQ(number(mp, "v"), 1);
  }
  Message empty_map = make(bytes({0x80}));
  ASSERT_EQ(reason(empty_map), "");
  EXPECT_EQ(empty_map.format, PayloadFormat::kMsgpack);
  EXPECT_TRUE(empty_map.fields.empty());

  Message num = make("7");
  ASSERT_EQ(reason(num), "");
  EXPECT_EQ(num.format, PayloadFormat::kNumber);
  EXPECT_EQ(number(num, "value"), 7);

  // An explicit format wins over what the bytes look like.
  EXPECT_EQ(reason_of("{\"v\":1}", with_format(PayloadFormat::kMsgpack)), "not_an_object");
}

TEST(HostilePayloadTest, EveryFileIsRejected) {
  // Reasons for the files we know; any new file must at least fail.
  const std::map<std::string, std::string> expected = {
      {"deep_nesting.json", "too_deep"},      {"deep_arrays.json", "too_deep"},
      {"unclosed_nesting.json", "too_deep"},  {"deep_nesting.msgpack", "too_deep"},
      {"bad_escape.json", "json_syntax"},     {"lone_surrogate.json", "json_syntax"},
      {"lone_low_surrogate.json", "json_syntax"}, {"nan_literal.json", "json_syntax"},
      {"leading_zero.json", "json_syntax"},   {"control_char.json", "json_syntax"},
      {"invalid_utf8.json", "json_syntax"},   {"trailing_garbage.json", "json_syntax"},
      {"unterminated_string.json", "json_syntax"}, {"huge_exponent.json", "json_syntax"},
      {"bad_timestamp.json", "bad_timestamp"}, {"truncated.msgpack", "msgpack_syntax"},
      {"huge_array_len.msgpack", "msgpack_syntax"}, {"huge_map_len.msgpack", "too_many_fields"},
      {"huge_str_len.msgpack", "msgpack_syntax"},  {"non_string_key.msgpack", "msgpack_syntax"},
      {"reserved_byte.msgpack", "msgpack_syntax"}, {"trailing_bytes.msgpack", "msgpack_syntax"},
  };
  const std::filesystem::path dir = std::filesystem::path(FOGGATE_TEST_DATA_DIR) / "hostile";
  std::size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path(), std::ios::binary);
    ASSERT_TRUE(in) << name;
    Message m = make(std::string(std::istreambuf_iterator<char>(in), {}));
    const std::string got = reason(m);
    EXPECT_NE(got, "") << name << " was accepted";
    if (auto it = expected.find(name); it != expected.end()) {
      EXPECT_EQ(got, it->second) << name;
      ++seen;
    }
  }
  EXPECT_EQ(seen, expected.size());
}

}  // namespace
}  // namespace foggate::protocols

namespace foggate::protocols {
namespace {

TEST(PayloadDecoderLimitsTest, TopicLengthIsLimited) {
  Message m;
  m.payload = R"({"t":1})";
  m.topic = "sensors/" + std::string(248, 'x');  // 256 bytes: at the default limit
  EXPECT_TRUE(decode_payload(m, {}).has_value());
  m.topic += "y";
  auto r = decode_payload(m, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "topic_too_long");
  DecodeOptions wider;
  wider.max_topic_bytes = 1024;
  EXPECT_TRUE(decode_payload(m, wider).has_value());
}

}  // namespace
}  // namespace foggate::protocols
