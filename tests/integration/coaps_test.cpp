// coaps:// end to end: coap-client-openssl with pre-shared keys against
// foggate's DTLS endpoint. The right key is accepted, a wrong key or an
// unknown identity fails the handshake, an identity posting for another
// device gets 4.03, plain CoAP can be turned off, and SIGHUP re-reads the
// key file.
#include <regex>

#include "fixture.h"

namespace foggate::itest {
namespace {

class CoapsTest : public ::testing::Test {
 protected:
  CoapsTest() : broker_(dir_), dtls_port_(free_udp_port()) {
    dir_.write("coap-psk", "# device   key\npump-1   pump-1-secret\nvalve-2  hex:0a0b0c0d0e0f\n");
  }

  void start(const std::string& coap_members = "") {
    gw_ = std::make_unique<Foggate>(dir_, broker_, R"("detectors":[
      {"name":"overheat","type":"threshold","field":"t","max":50,"cooldown_ms":0}])");
    gw_->set_ingest_extra(R"("coaps":{"enabled":true,"bind":"127.0.0.1","port":)" + std::to_string(dtls_port_) +
                              R"(,"psk_file":")" + dir_.file("coap-psk") + "\"}",
                          coap_members);
    gw_->start();
  }

  // The response code ("2.04", "4.03"), or "" when none came (handshake refused).
  std::string post(const std::string& identity, const std::string& key, const std::string& path,
                   const std::string& body = R"({"t":75})") {
    const auto out = run_command({COAP_CLIENT_DTLS_BIN, "-B", "3", "-v", "7", "-u", identity, "-k", key, "-m", "post",
                                  "-t", "50", "-e", body, "coaps://127.0.0.1:" + std::to_string(dtls_port_) + path});
    std::smatch m;
    return std::regex_search(out, m, std::regex(R"(c:([2-5]\.[0-9][0-9]))")) ? std::string(m[1]) : std::string();
  }

  TempDir dir_;
  Mosquitto broker_;
  uint16_t dtls_port_;
  std::unique_ptr<Foggate> gw_;
};

TEST_F(CoapsTest, RightKeyIsAcceptedAndRaisesAnAlert) {
  start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  EXPECT_EQ(post("pump-1", "pump-1-secret", "/sensors/pump-1/temp"), "2.04");
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw_->log();
  EXPECT_EQ(probe.messages("foggate/gw1/alerts/#")[0].topic, "foggate/gw1/alerts/warning/pump-1");
}

TEST_F(CoapsTest, WrongKeyAndUnknownIdentityAreRefusedAndCounted) {
  start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  EXPECT_EQ(post("pump-1", "not-the-key", "/sensors/pump-1/temp"), "");
  EXPECT_EQ(post("intruder", "whatever", "/sensors/intruder/temp"), "");
  EXPECT_GE(gw_->wait_metric(probe, "coap_dtls_refused_total{reason=unknown_identity}", [](double v) { return v >= 1; }), 1);
  EXPECT_EQ(gw_->metric(probe, "messages_received_total{source=coap}"), 0);
  EXPECT_TRUE(gw_->running());
}

TEST_F(CoapsTest, IdentityPostingForAnotherDeviceGetsForbidden) {
  start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  EXPECT_EQ(post("pump-1", "pump-1-secret", "/sensors/valve-2/temp"), "4.03");
  EXPECT_EQ(gw_->wait_metric(probe, "coap_responses_total{outcome=forbidden}", 1), 1);
  EXPECT_EQ(gw_->metric(probe, "messages_received_total{source=coap}"), 0);
  // A hex key works for its own device.
  EXPECT_EQ(post("valve-2", std::string("\x0a\x0b\x0c\x0d\x0e\x0f"), "/sensors/valve-2/temp"), "2.04");
}

TEST_F(CoapsTest, PlainCoapCanBeTurnedOff) {
  start(R"("enabled":false)");
  const auto out = run_command({COAP_CLIENT_BIN, "-B", "2", "-v", "7", "-m", "post", "-e", "1",
                                "coap://127.0.0.1:" + std::to_string(gw_->coap_port()) + "/sensors/pump-1/t"});
  EXPECT_FALSE(std::regex_search(out, std::regex(R"(c:2\.04)"))) << out;
  EXPECT_EQ(post("pump-1", "pump-1-secret", "/sensors/pump-1/temp"), "2.04");
}

// An unchanged key file keeps the endpoints as they are (a rebind would
// lose what arrives meanwhile); a rotated one is served after a rebind.
TEST_F(CoapsTest, SighupReadsTheKeyFileAgain) {
  start();
  EXPECT_EQ(post("pump-1", "pump-1-secret", "/sensors/pump-1/temp"), "2.04");
  gw_->hangup();
  ASSERT_TRUE(gw_->log_shows("key file unchanged")) << gw_->log();
  const auto listening = [&] {
    const std::string log = gw_->log();
    std::size_t n = 0;
    for (std::size_t at = 0; (at = log.find(R"(msg="listening")", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  EXPECT_EQ(listening(), 1u) << "not rebound";
  EXPECT_EQ(post("pump-1", "pump-1-secret", "/sensors/pump-1/temp"), "2.04");
  dir_.write("coap-psk", "pump-1 rotated-secret\n");
  gw_->hangup();
  // The new key works once the endpoint is back; bounded polling.
  std::string code;
  for (int i = 0; i < 20 && code != "2.04"; ++i) code = post("pump-1", "rotated-secret", "/sensors/pump-1/temp");
  EXPECT_EQ(code, "2.04") << gw_->log();
  EXPECT_EQ(post("pump-1", "pump-1-secret", "/sensors/pump-1/temp"), "");
}

}  // namespace
}  // namespace foggate::itest
