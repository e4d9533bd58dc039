// Authenticated links: the uplink over mutual TLS to a mosquitto that
// requires client certificates, refusals for the wrong certificates on
// either side (with the spool keeping the data), rotation on SIGHUP, and
// the site broker with a password from a file or the environment. The PKI
// comes from certs/make-dev-pki.sh, made once per test run.
#include <cstdlib>
#include <filesystem>

#include "fixture.h"

namespace foggate::itest {
namespace {

// A broker whose second listener speaks TLS with `server` (a file stem in
// the dev PKI) and requires a client certificate from the dev CA.
BrokerOptions tls_broker(const std::string& server) {
  return {.name = "upstream",
          .extra_listener = tls_listener_conf(server) + "\nrequire_certificate true\nallow_anonymous true"};
}

class UplinkTlsTest : public ::testing::Test {
 protected:
  // `client` names the client certificate stem in the dev PKI ("" = none);
  // the files are copied into the test's dir so a test can rotate them.
  std::string uplink_json(const Mosquitto& upstream, const std::string& client, const std::string& host = "localhost") {
    std::string tls = R"("ca_file":")" + pki("ca.crt") + "\"";
    if (!client.empty()) {
      std::filesystem::copy_file(pki(client + ".crt"), dir_.file("gw.crt"), std::filesystem::copy_options::overwrite_existing);
      std::filesystem::copy_file(pki(client + ".key"), dir_.file("gw.key"), std::filesystem::copy_options::overwrite_existing);
      tls += R"(,"cert_file":")" + dir_.file("gw.crt") + R"(","key_file":")" + dir_.file("gw.key") + "\"";
    }
    return R"("rules":{"default":[{"task":"forward","priority":"normal"}]},
              "uplink":{"uris":["ssl://)" + host + ":" + std::to_string(upstream.extra_port()) +
           R"("],"commit_interval_ms":100,"tls":{)" + tls + "}}";
  }

  static void publish_some(Probe& site, int n) {
    for (int i = 0; i < n; ++i) site.publish("sensors/dev-1/temp", R"({"t":)" + std::to_string(20 + i) + "}");
  }

  TempDir dir_;
  Mosquitto site_{dir_};
};

// Then SIGHUP with the same certificates keeps the uplink's connection: no
// rebuilt client, no open batch sealed early. The batches after it go up
// on the same connection (a rebuild would log "reconfigured" first: the
// uplink thread applies a new section before anything else in its turn).
TEST_F(UplinkTlsTest, MutualTlsDeliversBatchesAndAnUnchangedReloadKeepsTheConnection) {
  Mosquitto upstream(dir_, tls_broker("server"));
  Probe cloud(upstream.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  Foggate gw(dir_, site_, uplink_json(upstream, "client"));
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/metrics", 0);
  publish_some(site, 5);
  ASSERT_TRUE(cloud.wait_count("foggate/gw1/uplink/#", 1)) << gw.log();
  EXPECT_EQ(gw.wait_metric(site, "uplink_connected", 1), 1);

  const std::size_t before = cloud.messages("foggate/gw1/uplink/#").size();
  gw.hangup();
  ASSERT_TRUE(gw.log_shows("uplink credentials unchanged")) << gw.log();
  publish_some(site, 5);
  EXPECT_TRUE(cloud.wait_count("foggate/gw1/uplink/#", before + 1)) << gw.log();
  EXPECT_EQ(gw.log().find("reconfigured"), std::string::npos) << gw.log();
}

TEST_F(UplinkTlsTest, ClientCertificateFromOtherCaIsRefusedSpoolKeepsDataUntilRotation) {
  Mosquitto upstream(dir_, tls_broker("server"));
  Probe cloud(upstream.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  Foggate gw(dir_, site_, uplink_json(upstream, "other-client"));
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/metrics", 0);
  publish_some(site, 5);
  EXPECT_GE(gw.wait_metric(site, "uplink_connect_failures_total", [](double v) { return v >= 1; }), 1) << gw.log();
  EXPECT_GE(gw.wait_metric(site, "spool_batches{priority=normal}", [](double v) { return v >= 1; }), 1);
  EXPECT_EQ(gw.metric(site, "uplink_connected"), 0);
  EXPECT_TRUE(cloud.messages("foggate/gw1/uplink/#").empty());
  EXPECT_TRUE(gw.log_shows("refused our client certificate")) << gw.log();

  // Rotation: the right certificate in place of the wrong one, then SIGHUP.
  std::filesystem::copy_file(pki("client.crt"), dir_.file("gw.crt"), std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(pki("client.key"), dir_.file("gw.key"), std::filesystem::copy_options::overwrite_existing);
  gw.hangup();
  EXPECT_TRUE(cloud.wait_count("foggate/gw1/uplink/#", 1, 30s)) << gw.log();
  EXPECT_EQ(gw.wait_metric(site, "spool_batches{priority=normal}", 0), 0);
  EXPECT_TRUE(gw.running());
}

// The control for the host-name case below: the same certificate passes
// once host-name checking is off, so the refusal is about the name alone.
TEST_F(UplinkTlsTest, WrongHostPassesOnlyWithHostnameCheckOff) {
  Mosquitto upstream(dir_, tls_broker("server-wronghost"));
  Probe cloud(upstream.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  auto json = uplink_json(upstream, "client");
  json.replace(json.find(R"("tls":{)"), 7, R"("tls":{"verify_hostname":false,)");
  Foggate gw(dir_, site_, json);
  gw.start();
  Probe site(site_.uri());
  publish_some(site, 2);
  EXPECT_TRUE(cloud.wait_count("foggate/gw1/uplink/#", 1)) << gw.log();
}

TEST_F(UplinkTlsTest, NoClientCertificateIsRefused) {
  Mosquitto upstream(dir_, tls_broker("server"));
  Foggate gw(dir_, site_, uplink_json(upstream, ""));
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/metrics", 0);
  EXPECT_GE(gw.wait_metric(site, "uplink_connect_failures_total", [](double v) { return v >= 1; }), 1) << gw.log();
  EXPECT_EQ(gw.metric(site, "uplink_connected"), 0);
  EXPECT_TRUE(gw.log_shows("refused to go on without a client certificate")) << gw.log();
}

TEST_F(UplinkTlsTest, CertificateExpiringWithinTheWindowRaisesAWarningAlert) {
  Mosquitto upstream(dir_, tls_broker("server"));
  Probe alerts(site_.uri());
  alerts.subscribe("foggate/gw1/alerts/#");
  // client-expiring.crt is valid for 5 days from now; the window is 30.
  Foggate gw(dir_, site_, uplink_json(upstream, "client-expiring"), "gw1", R"("cert_expiry_warn_days":30)");
  gw.start();
  ASSERT_TRUE(alerts.wait_count("foggate/gw1/alerts/warning/gw1", 1)) << gw.log();
  const auto a = alerts.messages("foggate/gw1/alerts/warning/gw1")[0].payload;
  EXPECT_NE(a.find(R"("kind":"certificate_expiry")"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("role":"uplink.tls.cert_file")"), std::string::npos) << a;
  EXPECT_TRUE(a.find(R"("days_left":4)") != std::string::npos || a.find(R"("days_left":5)") != std::string::npos) << a;
  // The CA (10 years) and nothing else warns.
  EXPECT_EQ(alerts.messages("foggate/gw1/alerts/#").size(), 1u);
}

// Broker certificates foggate must refuse, and what its log says about them.
struct BadServer {
  const char* cert;  // stem in the dev PKI
  const char* host;  // the host in the ssl:// URI
  const char* why;   // expected in the log
};

class UplinkBadServerTest : public UplinkTlsTest, public ::testing::WithParamInterface<BadServer> {};

TEST_P(UplinkBadServerTest, IsRefusedAndReported) {
  Mosquitto upstream(dir_, tls_broker(GetParam().cert));
  Probe cloud(upstream.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  Foggate gw(dir_, site_, uplink_json(upstream, "client", GetParam().host));
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/metrics", 0);
  publish_some(site, 3);
  EXPECT_GE(gw.wait_metric(site, "uplink_connect_failures_total", [](double v) { return v >= 1; }), 1) << gw.log();
  EXPECT_GE(gw.wait_metric(site, "spool_batches{priority=normal}", [](double v) { return v >= 1; }), 1);
  EXPECT_EQ(gw.metric(site, "uplink_connected"), 0);
  EXPECT_TRUE(gw.log_shows(GetParam().why)) << gw.log();
  EXPECT_TRUE(cloud.messages("foggate/gw1/uplink/#").empty());
}

INSTANTIATE_TEST_SUITE_P(Certificates, UplinkBadServerTest,
                         ::testing::Values(BadServer{"other-server", "localhost", "not correctly signed by the trusted CA"},
                                           BadServer{"server-expired", "localhost", "validity has expired"},
                                           BadServer{"server-wronghost", "localhost", "Common Name (CN) does not match"}),
                         [](const auto& param_info) {
                           std::string n = param_info.param.cert;
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n + "_" + std::to_string(param_info.index);
                         });

// The site broker with a password listener; probes use the anonymous one.
class SiteAuthTest : public ::testing::Test {
 protected:
  SiteAuthTest() {
    site_ = std::make_unique<Mosquitto>(
        dir_, BrokerOptions{.extra_listener = "password_file " + password_file(dir_, {{"gw", kPassword}}) +
                                              "\nallow_anonymous false"});
  }

  std::string broker_json(const std::string& credentials) const {
    return R"({"uris":["tcp://127.0.0.1:)" + std::to_string(site_->extra_port()) + R"("],"username":"gw",)" +
           credentials + "}";
  }

  static constexpr const char* kPassword = "pw-9f2c-secret";
  TempDir dir_;
  std::unique_ptr<Mosquitto> site_;
};

TEST_F(SiteAuthTest, PasswordFromFileConnectsAndIsNeverLogged) {
  dir_.write("gw.pass", std::string(kPassword) + "\n");
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password_file":")" + dir_.file("gw.pass") + "\""));
  gw.start();  // online only through the password listener
  Probe site(site_->uri());
  site.subscribe("foggate/gw1/metrics", 0);
  site.publish("sensors/dev-1/temp", R"({"t":1})");
  EXPECT_EQ(gw.wait_metric(site, "messages_received_total{source=mqtt}", 1), 1);
  gw.stop();
  EXPECT_EQ(gw.log().find(kPassword), std::string::npos);
}

// SIGHUP with the same credentials keeps every site connection: a
// reconnect would lose the QoS 0 readings the broker sends meanwhile.
TEST_F(SiteAuthTest, ReloadWithUnchangedCredentialsKeepsTheConnections) {
  dir_.write("gw.pass", std::string(kPassword) + "\n");
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password_file":")" + dir_.file("gw.pass") + "\""));
  gw.start();
  Probe site(site_->uri());
  site.subscribe("foggate/gw1/metrics", 0);
  gw.hangup();
  ASSERT_TRUE(gw.log_shows("site broker credentials unchanged")) << gw.log();
  EXPECT_TRUE(gw.log_shows("credentials reloaded"));
  site.publish("sensors/dev-1/temp", R"({"t":1})", 1);
  EXPECT_EQ(gw.wait_metric(site, "messages_received_total{source=mqtt}", 1), 1);
  for (const std::string client : {"ingest", "alerts", "publish"})
    EXPECT_EQ(gw.metric(site, "mqtt_connects_total{client=" + client + "}"), 1) << client;
  gw.stop();
}

// Rotation: the broker takes a new password (and restarts), the gateway is
// refused with the old one and keeps retrying; SIGHUP after its password
// file is replaced connects every site connection at once, whatever the
// backoff had reached.
TEST_F(SiteAuthTest, RotatedPasswordFileIsUsedAfterAReload) {
  constexpr const char* kNewPassword = "pw-4e7a-rotated";
  dir_.write("gw.pass", std::string(kPassword) + "\n");
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password_file":")" + dir_.file("gw.pass") + "\""));
  gw.start();
  site_->stop();
  password_file(dir_, {{"gw", kNewPassword}});
  site_->start();
  ASSERT_TRUE(gw.log_shows("cannot connect; will retry")) << gw.log();
  dir_.write("gw.pass", std::string(kNewPassword) + "\n");
  gw.hangup();
  Probe site(site_->uri());
  site.subscribe("foggate/gw1/metrics", 0);
  EXPECT_GE(gw.wait_metric(site, "mqtt_connects_total{client=ingest}", [](double v) { return v >= 2; }), 2) << gw.log();
  site.publish("sensors/dev-1/temp", R"({"t":1})", 1);
  EXPECT_EQ(gw.wait_metric(site, "messages_received_total{source=mqtt}", 1), 1);
  gw.stop();
  EXPECT_EQ(gw.log().find(kNewPassword), std::string::npos);
}

TEST_F(SiteAuthTest, PasswordFromEnvironmentConnects) {
  ::setenv("FOGGATE_TEST_SITE_PASSWORD", kPassword, 1);
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password_env":"FOGGATE_TEST_SITE_PASSWORD")"));
  gw.start();
  ::unsetenv("FOGGATE_TEST_SITE_PASSWORD");
  EXPECT_TRUE(gw.running());
}

TEST_F(SiteAuthTest, WrongPasswordIsRefusedReportedAndNotLogged) {
  dir_.write("gw.pass", "not-the-password-77\n");
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password_file":")" + dir_.file("gw.pass") + "\""));
  gw.start(false);
  EXPECT_TRUE(gw.log_shows("cannot connect")) << gw.log();
  EXPECT_TRUE(gw.running());
  gw.stop();
  EXPECT_EQ(gw.log().find("not-the-password-77"), std::string::npos);
}

TEST_F(SiteAuthTest, MissingPasswordFileStopsStartWithItsName) {
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password_file":")" + dir_.file("absent.pass") + "\""));
  gw.start(false);
  EXPECT_TRUE(gw.log_shows("absent.pass cannot be read")) << gw.log();
}

TEST_F(SiteAuthTest, CheckNeverPrintsAnInlinePassword) {
  Foggate gw(dir_, *site_, "");
  gw.set_broker(broker_json(R"("password":")" + std::string(kPassword) + "\""));
  int rc = -1;
  const auto out = run_command({FOGGATE_BIN, "check", "--config", gw.config_path()}, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find(kPassword), std::string::npos) << out;
}

}  // namespace
}  // namespace foggate::itest
