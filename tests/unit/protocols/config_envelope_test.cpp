#include "foggate/protocols/config_envelope.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace foggate::protocols {
namespace {

ConfigEnvelope sample() {
  ConfigEnvelope e;
  e.section = "rules";
  e.target = "gw1";
  e.version = 7;
  // Quotes, backslashes, a line break, a tab and non-ASCII text: all must
  // survive the trip through a JSON string byte for byte.
  e.body = "{\"rules\":[{\"name\":\"a \\\"b\\\"\",\"t\":\"\xC3\xA9\\t\"}]}\n\t";
  e.enveloped = true;
  return e;
}

Error parse_error(std::string_view payload) {
  auto r = parse_config_envelope(payload);
  EXPECT_FALSE(r) << payload;
  return r ? Error{} : r.error();
}

TEST(ConfigEnvelopeTest, AlgNames) {
  EXPECT_EQ(to_string(SignatureAlg::kNone), "none");
  EXPECT_EQ(to_string(SignatureAlg::kHmacSha256), "hmac-sha256");
  EXPECT_EQ(to_string(SignatureAlg::kEcdsaP256), "ecdsa-p256");
}

TEST(ConfigEnvelopeTest, SigningInputExactBytes) {
  EXPECT_EQ(signing_input("rules", "gw1", 7, "{\"a\":1}\n"),
            "foggate-config/1\nrules\ngw1\n7\n{\"a\":1}\n");
  EXPECT_EQ(signing_input("detectors", "all", 0, ""), "foggate-config/1\ndetectors\nall\n0\n");
  EXPECT_EQ(signing_input("s", "t", 9007199254740992ULL, "{}"),
            "foggate-config/1\ns\nt\n9007199254740992\n{}");
}

TEST(ConfigEnvelopeTest, MakeUnsignedExactBytes) {
  ConfigEnvelope e;
  e.section = "rules";
  e.target = "all";
  e.version = 3;
  e.body = "{\"a\":\"x\"}";
  EXPECT_EQ(make_config_envelope(e),
            "{\"foggate_config\":1,\"section\":\"rules\",\"target\":\"all\",\"version\":3,"
            "\"body\":\"{\\\"a\\\":\\\"x\\\"}\"}");
}

TEST(ConfigEnvelopeTest, MakeSignedExactBytes) {
  ConfigEnvelope e;
  e.section = "rules";
  e.target = "gw1";
  e.version = 12;
  e.body = "{}";
  e.alg = SignatureAlg::kHmacSha256;
  e.signature = std::string("\x00\xff\x10", 3);
  EXPECT_EQ(make_config_envelope(e),
            "{\"foggate_config\":1,\"section\":\"rules\",\"target\":\"gw1\",\"version\":12,"
            "\"body\":\"{}\",\"alg\":\"hmac-sha256\",\"sig\":\"AP8Q\"}");
}

TEST(ConfigEnvelopeTest, RoundTripUnsigned) {
  const ConfigEnvelope e = sample();
  const std::string text = make_config_envelope(e);
  EXPECT_EQ(text.find("\"alg\""), std::string::npos);
  EXPECT_EQ(text.find("\"sig\""), std::string::npos);
  auto back = parse_config_envelope(text);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_TRUE(back->enveloped);
  EXPECT_EQ(back->section, e.section);
  EXPECT_EQ(back->target, e.target);
  EXPECT_EQ(back->version, e.version);
  EXPECT_EQ(back->body, e.body);
  EXPECT_EQ(back->alg, SignatureAlg::kNone);
  EXPECT_TRUE(back->signature.empty());
}

TEST(ConfigEnvelopeTest, RoundTripSigned) {
  // Every signature length mod 3, so each base64 padding case is covered.
  for (std::size_t n = 1; n <= 7; ++n) {
    for (const SignatureAlg alg : {SignatureAlg::kHmacSha256, SignatureAlg::kEcdsaP256}) {
      ConfigEnvelope e = sample();
      e.alg = alg;
      e.signature.clear();
      for (std::size_t i = 0; i < n; ++i) e.signature += static_cast<char>(0xF0 + i * 7);
      auto back = parse_config_envelope(make_config_envelope(e));
      ASSERT_TRUE(back) << back.error().detail;
      EXPECT_EQ(back->alg, alg);
      EXPECT_EQ(back->signature, e.signature);
      EXPECT_EQ(back->body, e.body);
    }
  }
}

TEST(ConfigEnvelopeTest, MemberOrderDoesNotMatter) {
  auto e = parse_config_envelope(
      "{\"sig\":\"AAAA\",\"body\":\"{}\",\"version\":1,\"alg\":\"ecdsa-p256\","
      "\"target\":\"all\",\"section\":\"rules\",\"foggate_config\":1}");
  ASSERT_TRUE(e) << e.error().detail;
  EXPECT_EQ(e->alg, SignatureAlg::kEcdsaP256);
  EXPECT_EQ(e->signature, std::string(3, '\0'));
  EXPECT_EQ(e->target, "all");
}

TEST(ConfigEnvelopeTest, VersionBounds) {
  auto with_version = [](const std::string& v) {
    return parse_config_envelope("{\"foggate_config\":1,\"section\":\"s\",\"target\":\"t\","
                                 "\"version\":" + v + ",\"body\":\"{}\"}");
  };
  auto zero = with_version("0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->version, 0u);
  auto top = with_version("9007199254740992");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->version, 9007199254740992ULL);
  for (const char* bad : {"-1", "1.5", "18014398509481984", "1e300", "\"7\"", "null", "true"}) {
    auto r = with_version(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().reason, "config_envelope") << bad;
    EXPECT_NE(r.error().detail.find("version"), std::string::npos) << r.error().detail;
  }
}

TEST(ConfigEnvelopeTest, BareDocumentKeepsPayloadBytes) {
  const std::string payload = " {\"rules\": [ {\"a\" : 1} ]}\r\n";
  auto e = parse_config_envelope(payload);
  ASSERT_TRUE(e) << e.error().detail;
  EXPECT_FALSE(e->enveloped);
  EXPECT_EQ(e->body, payload);
  EXPECT_EQ(e->version, 0u);
  EXPECT_EQ(e->alg, SignatureAlg::kNone);
  EXPECT_TRUE(e->section.empty());
  EXPECT_TRUE(e->target.empty());
  EXPECT_TRUE(e->signature.empty());
}

TEST(ConfigEnvelopeTest, BareArrayDocument) {
  // The detectors section is an array; an array is never an envelope.
  const std::string payload = "[{\"type\":\"threshold\"},{\"foggate_config\":1}]";
  auto e = parse_config_envelope(payload);
  ASSERT_TRUE(e) << e.error().detail;
  EXPECT_FALSE(e->enveloped);
  EXPECT_EQ(e->body, payload);
  EXPECT_EQ(e->alg, SignatureAlg::kNone);
}

TEST(ConfigEnvelopeTest, BareDocumentMayHoldEnvelopeLikeMembers) {
  // Only "foggate_config" makes an envelope; a section may well have a
  // member called "version" or "body".
  auto e = parse_config_envelope("{\"version\":3,\"body\":{},\"sig\":1}");
  ASSERT_TRUE(e) << e.error().detail;
  EXPECT_FALSE(e->enveloped);
  EXPECT_EQ(e->version, 0u);
}

TEST(ConfigEnvelopeTest, BodyLargerThanDefaultStringLimit) {
  ConfigEnvelope e = sample();
  e.body = "{\"x\":\"" + std::string(200 * 1024, 'a') + "\"}";
  auto back = parse_config_envelope(make_config_envelope(e));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(back->body, e.body);
}

TEST(ConfigEnvelopeTest, MalformedEnvelopes) {
  struct Case {
    std::string payload;
    std::string detail;  // a part of the expected detail
  };
  const std::string head = "{\"foggate_config\":1,\"section\":\"rules\",\"target\":\"gw1\",";
  const std::string ok = head + "\"version\":1,\"body\":\"{}\"";
  const std::vector<Case> cases = {
      {"", "not JSON"},
      {"not json", "not JSON"},
      {"{\"a\":1", "not JSON"},
      {"{\"a\":1} x", "not JSON"},
      {"\"text\"", "string, not a section"},
      {"42", "number, not a section"},
      {"null", "null, not a section"},
      {"true", "bool, not a section"},
      {ok + ",\"section\":\"x\"}", "json_duplicate_key"},
      {ok + ",\"extra\":1}", "unknown member \"extra\""},
      {ok + ",\"" + std::string(100, 'k') + "\":1}", "unknown member (100 bytes)"},
      {"{\"foggate_config\":2,\"section\":\"s\",\"target\":\"t\",\"version\":1,\"body\":\"{}\"}",
       "\"foggate_config\" is not 1"},
      {"{\"foggate_config\":\"1\",\"section\":\"s\",\"target\":\"t\",\"version\":1,\"body\":\"{}\"}",
       "\"foggate_config\" is string, not number"},
      {"{\"foggate_config\":null}", "\"foggate_config\" is null, not number"},
      {"{\"foggate_config\":1,\"target\":\"t\",\"version\":1,\"body\":\"{}\"}",
       "missing member \"section\""},
      {"{\"foggate_config\":1,\"section\":\"s\",\"version\":1,\"body\":\"{}\"}",
       "missing member \"target\""},
      {head + "\"body\":\"{}\"}", "missing member \"version\""},
      {head + "\"version\":1}", "missing member \"body\""},
      {"{\"foggate_config\":1,\"section\":5,\"target\":\"t\",\"version\":1,\"body\":\"{}\"}",
       "\"section\" is number, not string"},
      {"{\"foggate_config\":1,\"section\":\"\",\"target\":\"t\",\"version\":1,\"body\":\"{}\"}",
       "\"section\" is empty"},
      {"{\"foggate_config\":1,\"section\":\"a\\nb\",\"target\":\"t\",\"version\":1,\"body\":\"{}\"}",
       "\"section\" holds a control character"},
      {"{\"foggate_config\":1,\"section\":\"s\",\"target\":[],\"version\":1,\"body\":\"{}\"}",
       "\"target\" is array, not string"},
      {"{\"foggate_config\":1,\"section\":\"s\",\"target\":\"g\\u0000\",\"version\":1,"
       "\"body\":\"{}\"}",
       "\"target\" holds a control character"},
      {head + "\"version\":1,\"body\":{\"a\":1}}", "\"body\" is object, not string"},
      {ok + ",\"alg\":\"hmac-sha256\"}", "\"alg\" without \"sig\""},
      {ok + ",\"sig\":\"AAAA\"}", "\"sig\" without \"alg\""},
      {ok + ",\"alg\":\"none\",\"sig\":\"AAAA\"}", "unknown alg \"none\""},
      {ok + ",\"alg\":\"HMAC-SHA256\",\"sig\":\"AAAA\"}", "unknown alg \"HMAC-SHA256\""},
      {ok + ",\"alg\":1,\"sig\":\"AAAA\"}", "\"alg\" is number, not string"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":[]}", "\"sig\" is array, not string"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"\"}", "\"sig\" is empty"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"YQ\"}", "not canonical base64"},      // no padding
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"YR==\"}", "not canonical base64"},    // pad bits
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"YWI=\\n\"}", "not canonical base64"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"Y Q==\"}", "not canonical base64"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"YQ==YQ==\"}", "not canonical base64"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"====\"}", "not canonical base64"},
      {ok + ",\"alg\":\"ecdsa-p256\",\"sig\":\"YW-_\"}", "not canonical base64"},  // base64url
  };
  for (const Case& c : cases) {
    const Error err = parse_error(c.payload);
    EXPECT_EQ(err.reason, "config_envelope") << c.payload;
    EXPECT_EQ(err.kind, ErrorKind::kPermanent) << c.payload;
    EXPECT_NE(err.detail.find(c.detail), std::string::npos)
        << "payload: " << c.payload << "\ndetail: " << err.detail << "\nwanted: " << c.detail;
  }
}

}  // namespace
}  // namespace foggate::protocols

namespace foggate::protocols {
namespace {

TEST(ConfigEnvelopeTest, BareArrayIsADetectorsSection) {
  const std::string payload = R"([{"name":"d","type":"threshold","field":"t","max":1}])";
  auto e = parse_config_envelope(payload);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->enveloped);
  EXPECT_EQ(e->body, payload);
  EXPECT_EQ(e->version, 0u);
}

}  // namespace
}  // namespace foggate::protocols
