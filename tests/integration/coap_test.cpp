// CoAP ingest end to end: the real coap-client against foggate's libcoap
// server, alerts observed on the real broker.
#include <regex>

#include "fixture.h"

namespace foggate::itest {
namespace {

struct CoapResult {
  std::string code;  // "2.04", "4.00", ...
  std::string output;
};

class CoapTest : public ::testing::Test {
 protected:
  CoapTest() : broker_(dir_), gw_(dir_, broker_, R"("detectors":[
    {"name":"overheat","type":"threshold","field":"t","max":50,"cooldown_ms":0}])") {
    gw_.start();
  }

  // Runs coap-client; -v 7 logs every PDU, so the response code is the first
  // "c:D.DD" in its output.
  CoapResult coap(std::vector<std::string> args, const std::string& path) {
    std::vector<std::string> argv{COAP_CLIENT_BIN, "-B", "5", "-v", "7"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("coap://127.0.0.1:" + std::to_string(gw_.coap_port()) + path);
    CoapResult r;
    r.output = run_command(argv);
    std::smatch m;
    if (std::regex_search(r.output, m, std::regex(R"(c:([2-5]\.[0-9][0-9]))"))) r.code = m[1];
    return r;
  }

  TempDir dir_;
  Mosquitto broker_;
  Foggate gw_;
};

TEST_F(CoapTest, JsonPostIsAcceptedAndRaisesAnAlert) {
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  auto r = coap({"-m", "post", "-t", "50", "-e", R"({"t":75})"}, "/sensors/pump-1/temp");
  EXPECT_EQ(r.code, "2.04") << r.output;
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw_.log();
  auto a = probe.messages("foggate/gw1/alerts/#")[0];
  EXPECT_EQ(a.topic, "foggate/gw1/alerts/warning/pump-1");
  EXPECT_NE(a.payload.find("\"topic\":\"sensors/pump-1/temp\""), std::string::npos) << a.payload;
}

TEST_F(CoapTest, NonConfirmableTextNumberIsAccepted) {
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  // NON: no ACK, so no response code to read; the alert proves arrival.
  coap({"-m", "post", "-N", "-t", "0", "-e", "99"}, "/sensors/valve-2/t");
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw_.log();
  EXPECT_NE(probe.messages("foggate/gw1/alerts/#")[0].payload.find("\"value\":99"), std::string::npos);
}

TEST_F(CoapTest, MsgpackBodyIsAccepted) {
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  dir_.write("body.msgpack", std::string("\x81\xa1t\xcb\x40\x50\x00\x00\x00\x00\x00\x00", 12));  // {"t": 64.0}
  auto r = coap({"-m", "post", "-t", "42", "-f", dir_.file("body.msgpack")}, "/sensors/m-1");
  EXPECT_EQ(r.code, "2.04") << r.output;
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw_.log();
  EXPECT_NE(probe.messages("foggate/gw1/alerts/#")[0].payload.find("\"value\":64"), std::string::npos);
}

TEST_F(CoapTest, MalformedBodyGets400WithDiagnosticAndIsCounted) {
  auto r = coap({"-m", "post", "-t", "50", "-e", R"({"t":)"}, "/sensors/d/temp");
  EXPECT_EQ(r.code, "4.00") << r.output;
  EXPECT_NE(r.output.find("json_syntax"), std::string::npos) << r.output;
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  EXPECT_EQ(gw_.metric(probe, "messages_malformed_total{source=coap}"), 1);
  // Still serving.
  EXPECT_EQ(coap({"-m", "post", "-t", "50", "-e", R"({"t":1})"}, "/sensors/d/temp").code, "2.04");
}

TEST_F(CoapTest, OversizedBlockwiseBodyGets413) {
  // The test configuration sets ingest.coap.max_body_bytes to 1024.
  std::string big = R"({"t":1,"pad":")" + std::string(3000, 'x') + R"("})";
  dir_.write("big.json", big);
  auto r = coap({"-m", "post", "-t", "50", "-b", "64", "-f", dir_.file("big.json")}, "/sensors/d/temp");
  EXPECT_NE(r.output.find("c:4.13"), std::string::npos) << r.output;
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  EXPECT_EQ(gw_.metric(probe, "messages_received_total{source=coap}"), 0) << "rejected before ingest";
}

TEST_F(CoapTest, BlockwiseBodyWithinLimitArrivesWhole) {
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  std::string body = R"({"t":88,"pad":")" + std::string(700, 'y') + R"("})";
  dir_.write("mid.json", body);
  auto r = coap({"-m", "post", "-t", "50", "-b", "64", "-f", dir_.file("mid.json")}, "/sensors/blk/temp");
  EXPECT_NE(r.output.find("c:2.04"), std::string::npos) << r.output;
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw_.log();
}

TEST_F(CoapTest, WellKnownCoreListsSensorsAndUnknownPathsAre404) {
  auto r = coap({"-m", "get"}, "/.well-known/core");
  EXPECT_NE(r.output.find("sensors"), std::string::npos) << r.output;
  EXPECT_EQ(coap({"-m", "post", "-e", "1"}, "/elsewhere").code, "4.04");
}

}  // namespace
}  // namespace foggate::itest
