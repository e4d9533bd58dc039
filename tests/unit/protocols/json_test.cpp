#include "foggate/protocols/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace foggate::protocols {
namespace {

// Records events as compact text: "{ k:a n:1 [ t f _ ] s:x }".
class Recorder : public JsonHandler {
 public:
  bool on_null() override { return add("_"); }
  bool on_bool(bool v) override { return add(v ? "t" : "f"); }
  bool on_number(double v) override {
    std::string s = "n:";
    append_json_number(s, v);
    return add(s);
  }
  bool on_string(std::string_view v) override { return add("s:" + std::string(v)); }
  bool on_key(std::string_view k) override { return add("k:" + std::string(k)); }
  bool begin_object() override { return add("{"); }
  bool end_object() override { return add("}"); }
  bool begin_array() override { return add("["); }
  bool end_array() override { return add("]"); }

  std::string events;
  std::string reject_at;  // an event to refuse

 private:
  bool add(const std::string& e) {
    if (!events.empty()) events += ' ';
    events += e;
    return e != reject_at;
  }
};

Error parse_error(std::string_view text, const JsonLimits& limits = {}) {
  Recorder r;
  auto res = parse_json_events(text, r, limits);
  EXPECT_FALSE(res) << "accepted: " << text;
  return res ? Error{} : res.error();
}

std::string parse_string_value(std::string_view text) {
  auto v = parse_json(text);
  EXPECT_TRUE(v) << text << ": " << (v ? "" : v.error().detail);
  if (!v || !v->is_string()) return "<error>";
  return v->as_string();
}

std::string number_text(double d) {
  std::string s;
  append_json_number(s, d);
  return s;
}

TEST(JsonTest, EmitsEventsInDocumentOrder) {
  Recorder r;
  ASSERT_TRUE(parse_json_events(R"( {"k":"a","n":1,"l":[true,false,null],"o":{}} )", r));
  EXPECT_EQ(r.events, "{ k:k s:a k:n n:1 k:l [ t f _ ] k:o { } }");
}

TEST(JsonTest, BuildsTree) {
  auto v = parse_json(R"({"a":1.5,"b":[true,null,"x"],"c":{"d":-2}})");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->is_object());
  ASSERT_EQ(v->members().size(), 3u);
  EXPECT_EQ(v->members()[0].first, "a");
  EXPECT_DOUBLE_EQ(v->find("a")->as_number(), 1.5);
  const JsonValue* b = v->find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->is_array());
  ASSERT_EQ(b->items().size(), 3u);
  EXPECT_TRUE(b->items()[0].as_bool());
  EXPECT_TRUE(b->items()[1].is_null());
  EXPECT_EQ(b->items()[2].as_string(), "x");
  EXPECT_EQ(v->find("c")->find("d")->as_number(), -2);
  EXPECT_EQ(v->find("zz"), nullptr);
  EXPECT_EQ(b->find("a"), nullptr);
}

TEST(JsonTest, RoundTripsCompactDocuments) {
  for (const char* doc : {
           R"({"a":1,"b":[1,2.5,-3,1e+300],"c":{"d":"x\ny"},"e":null,"f":true,"g":false})",
           R"([])", R"({})", R"("")", R"(0)", R"(-0.125)", R"([[[]],{}])",
           R"({"q":"\"\\\/ \u0001"})", R"({"order":1,"kept":2,"as":3,"given":4})"}) {
    auto v = parse_json(doc);
    ASSERT_TRUE(v) << doc;
    const std::string once = to_json(*v);
    auto again = parse_json(once);
    ASSERT_TRUE(again) << once;
    EXPECT_EQ(to_json(*again), once);
  }
  EXPECT_EQ(to_json(*parse_json(" {\"a\" : [ 1 , 2 ] }\n")), R"({"a":[1,2]})");
  EXPECT_EQ(to_json(*parse_json(R"({"s":"\/\u0001"})")), R"({"s":"/\u0001"})");
}

TEST(JsonTest, DecodesEscapes) {
  EXPECT_EQ(parse_string_value(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse_string_value(R"("\u0041\u00e9\u20AC")"), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse_string_value(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse_string_value(R"("\uDBFF\uDFFF")"), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(parse_string_value(R"("a\u0000b")"), std::string("a\0b", 3));
  EXPECT_EQ(parse_string_value("\"caf\xC3\xA9 \xF0\x9F\x98\x80\""), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

struct BadCase {
  const char* text;
  const char* detail;
};

TEST(JsonTest, RejectsSyntaxErrorsWithOffset) {
  const BadCase cases[] = {
      {"", "offset 0: expected value"},
      {"   ", "offset 3: expected value"},
      {R"({"a" 1})", "offset 5: expected ':'"},
      {R"({"a":1,})", "offset 7: expected string key"},
      {R"({1:2})", "offset 1: expected string key"},
      {"[1,]", "offset 3: expected value"},
      {"[1 2]", "offset 3: expected ',' or ']'"},
      {R"({"a":1)", "offset 6: expected ',' or '}'"},
      {R"({"a":1])", "offset 6: expected ',' or '}'"},
      {"01", "offset 1: leading zero in number"},
      {"-01", "offset 2: leading zero in number"},
      {"-", "offset 1: expected digit"},
      {"1.", "offset 2: expected digit after '.'"},
      {"1.e5", "offset 2: expected digit after '.'"},
      {"1e", "offset 2: expected exponent digit"},
      {"1e+", "offset 3: expected exponent digit"},
      {"+1", "offset 0: expected value"},
      {".5", "offset 0: expected value"},
      {"NaN", "offset 0: expected value"},
      {"Infinity", "offset 0: expected value"},
      {"-Infinity", "offset 1: expected digit"},
      {"tru", "offset 0: expected value"},
      {"nul", "offset 0: expected value"},
      {"1 2", "offset 2: unexpected trailing characters"},
      {"{}}", "offset 2: unexpected trailing characters"},
      {"\"abc", "offset 4: unterminated string"},
      {"\"ab\\", "offset 4: unterminated string"},
      {R"("a\x")", "offset 3: invalid escape"},
      {R"("a\U0041")", "offset 3: invalid escape"},
      {R"("\u12G4")", "offset 5: expected 4 hex digits after \\u"},
      {R"("\u12)", "offset 5: expected 4 hex digits after \\u"},
      {R"("\ud800")", "offset 7: lone high surrogate"},
      {R"("\ud800\u0041")", "offset 13: lone high surrogate"},
      {R"("\udc00")", "offset 7: lone low surrogate"},
      {"\"a\nb\"", "offset 2: control character in string"},
      {"\"\x01\"", "offset 1: control character in string"},
      {"\"\xFF\"", "offset 1: invalid UTF-8 in string"},
      {"\"\xC0\xAF\"", "offset 1: invalid UTF-8 in string"},
      {"\"\xED\xA0\x80\"", "offset 1: invalid UTF-8 in string"},
      {"\"\xE2\x82\"", "offset 1: invalid UTF-8 in string"},
      {"\"\xF4\x90\x80\x80\"", "offset 1: invalid UTF-8 in string"},
      {"1e400", "offset 0: number out of range"},
      {"-1e400", "offset 0: number out of range"},
      {"[", "offset 1: expected value"},
      {"]", "offset 0: expected value"},
  };
  for (const auto& c : cases) {
    const Error e = parse_error(c.text);
    EXPECT_EQ(e.reason, "json_syntax") << c.text;
    EXPECT_EQ(e.detail, c.detail) << c.text;
    EXPECT_EQ(e.kind, ErrorKind::kPermanent);
  }
}

TEST(JsonTest, UnderflowBecomesZero) {
  auto v = parse_json("[1e-400,-1e-400,0.0000e-999999999999]");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->items()[0].as_number(), 0.0);
  EXPECT_TRUE(std::signbit(v->items()[1].as_number()));
  EXPECT_EQ(v->items()[2].as_number(), 0.0);
  auto w = parse_json("[1e308, 4.9e-324, 1000000000000000000000000000000e-10]");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->items()[0].as_number(), 1e308);
  EXPECT_EQ(w->items()[2].as_number(), 1e20);
}

TEST(JsonTest, EnforcesDepth) {
  JsonLimits limits;
  limits.max_depth = 3;
  Recorder r;
  EXPECT_TRUE(parse_json_events("[{\"a\":[1]}]", r, limits));
  const Error e = parse_error("[{\"a\":[[1]]}]", limits);
  EXPECT_EQ(e.reason, "json_depth");
  EXPECT_EQ(e.detail, "offset 7: nesting deeper than 3");

  const std::string ok = std::string(32, '[') + std::string(32, ']');
  EXPECT_TRUE(parse_json(ok));
  EXPECT_EQ(parse_error("[" + ok + "]").reason, "json_depth");
}

TEST(JsonTest, DeepInputCannotExhaustTheStack) {
  JsonLimits limits;
  limits.max_depth = std::numeric_limits<std::size_t>::max();
  const std::string deep(200000, '[');
  const Error e = parse_error(deep, limits);
  EXPECT_EQ(e.reason, "json_syntax");
  EXPECT_EQ(e.detail, "offset 200000: expected value");
  Recorder r;
  EXPECT_TRUE(parse_json_events(deep + std::string(200000, ']'), r, limits));
}

TEST(JsonTest, EnforcesSizeAndStringLimits) {
  JsonLimits limits;
  limits.max_bytes = 4;
  Recorder r;
  EXPECT_TRUE(parse_json_events("1234", r, limits));
  const Error big = parse_error("12345", limits);
  EXPECT_EQ(big.reason, "json_too_large");
  EXPECT_EQ(big.detail, "5 bytes, limit 4");

  limits = {};
  limits.max_string = 3;
  EXPECT_TRUE(parse_json(R"(["abc",{"xyz":1}])", limits));
  EXPECT_EQ(parse_error(R"("abcd")", limits).reason, "json_string_too_long");
  EXPECT_EQ(parse_error(R"({"abcd":1})", limits).reason, "json_string_too_long");
  EXPECT_EQ(parse_error(R"("abcd")", limits).detail, "offset 5: string longer than 3 bytes");
  // Decoded length counts: two escapes of 2 bytes each are 4 bytes.
  EXPECT_TRUE(parse_json(R"("\u00e9a")", limits));
  EXPECT_EQ(parse_error(R"("\u00e9\u00e9")", limits).reason, "json_string_too_long");
}

TEST(JsonTest, HandlerCanStopTheParse) {
  Recorder r;
  r.reject_at = "n:2";
  auto res = parse_json_events("[1,2,3]", r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().reason, "json_rejected");
  EXPECT_EQ(r.events, "[ n:1 n:2");
}

TEST(JsonTest, TreeRejectsDuplicateKeys) {
  auto v = parse_json(R"({"a":1,"b":{"a":2},"a":3})");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().reason, "json_duplicate_key");
  EXPECT_EQ(v.error().detail, "offset 22: duplicate key \"a\"");
  // Same key in sibling objects is fine, and the event interface does not care.
  EXPECT_TRUE(parse_json(R"({"x":{"a":1},"y":{"a":2}})"));
  Recorder r;
  EXPECT_TRUE(parse_json_events(R"({"a":1,"a":2})", r));
}

TEST(JsonTest, FormatsNumbers) {
  EXPECT_EQ(number_text(42), "42");
  EXPECT_EQ(number_text(-3), "-3");
  EXPECT_EQ(number_text(0), "0");
  EXPECT_EQ(number_text(-0.0), "0");
  EXPECT_EQ(number_text(0.5), "0.5");
  EXPECT_EQ(number_text(0.1), "0.1");
  EXPECT_EQ(number_text(-21.75), "-21.75");
  EXPECT_EQ(number_text(1e300), "1e+300");
  EXPECT_EQ(number_text(1.5e-7), "1.5e-07");
  EXPECT_EQ(number_text(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(number_text(-9007199254740992.0), "-9007199254740992");
  EXPECT_EQ(number_text(1e20), "1e+20");
  EXPECT_EQ(number_text(std::nan("")), "null");
  EXPECT_EQ(number_text(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number_text(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(to_json(JsonValue::number(std::nan(""))), "null");
}

TEST(JsonTest, NumbersRoundTripExactly) {
  for (double d : {0.1, 1.0 / 3, 123456.789, -2.2250738585072014e-308, 4.9e-324,
                   1.7976931348623157e308, 9007199254740993.0, 1700000000123.0}) {
    auto v = parse_json(number_text(d));
    ASSERT_TRUE(v) << number_text(d);
    EXPECT_EQ(v->as_number(), d) << number_text(d);
  }
}

TEST(JsonTest, EscapesStrings) {
  std::string out = "x";
  append_json_string(out, std::string("a\"b\\c/\n\t\r\b\f\x01\x1f\x7f\0\xC3\xA9", 17));
  EXPECT_EQ(out, "x\"a\\\"b\\\\c/\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\\u0000\xC3\xA9\"");
}

TEST(JsonTest, BuildsAndSerialisesValues) {
  JsonValue doc = JsonValue::object();
  doc.set("name", JsonValue::string("gw-1"));
  JsonValue& list = doc.set("list", JsonValue::array());
  list.push(JsonValue::number(1));
  list.push(JsonValue::boolean(false));
  list.push(JsonValue());
  JsonValue implicit;  // null becomes a container on first use
  implicit.set("k", JsonValue::number(2.5));
  doc.set("nested", implicit);
  EXPECT_EQ(to_json(doc), R"({"name":"gw-1","list":[1,false,null],"nested":{"k":2.5}})");
  EXPECT_EQ(doc.find("nested")->find("k")->as_number(), 2.5);
  EXPECT_EQ(to_string(JsonValue::Type::kObject), "object");
  EXPECT_EQ(to_string(JsonValue::Type::kNumber), "number");
  EXPECT_EQ(to_string(parse_json("[]")->type()), "array");
}

}  // namespace
}  // namespace foggate::protocols
