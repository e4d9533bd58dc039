// The MQTT ingest connection (protocols/mqtt_ingest) inside the gateway:
// both protocol versions, PUBACKs only once a reading is safe and in
// arrival order, the persistent session across broker restarts, messages
// over max_packet_bytes, and TLS with a login. A broker that breaks the
// protocol: mqtt_ingest_violation_test.cpp.
//
// "Safe" is made observable with the uplink: a forwarded QoS 1 reading is
// safe once its batch is committed to the spool, and the commit interval
// here (60 s) is longer than any test, so a commit happens only when a
// test asks for one: a critical reading (its batch commits at once, with
// every batch already sealed) or a clean stop.
#include <string>
#include <vector>

#include "fixture.h"

namespace foggate::itest {
namespace {

constexpr int kReadings = 20;

std::string reading(int seq, int t = 20) {
  return R"({"t":)" + std::to_string(t) + R"(,"seq":)" + std::to_string(seq) + "}";
}

void publish_readings(Probe& site, int from, int to) {
  for (int i = from; i < to; ++i) site.publish("sensors/dev-" + std::to_string(i % 5) + "/temp", reading(i), 1);
}

// The broker section for `site` with extra members (e.g. "mqtt_version":"3.1.1").
std::string broker_json(const Mosquitto& site, const std::string& members) {
  return R"({"uris":[")" + site.uri() + "\"]" + (members.empty() ? "" : "," + members) + "}";
}

// The log lines of the ingest connection's connects (the normal lane).
std::vector<std::string> ingest_connects(const std::string& log) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  for (std::size_t end; (end = log.find('\n', at)) != std::string::npos; at = end + 1) {
    const auto line = log.substr(at, end - at);
    if (line.find("module=mqtt-ingest") != std::string::npos && line.find(R"(msg="connected")") != std::string::npos &&
        line.find("client_id=foggate-gw1 ") != std::string::npos)
      lines.push_back(line);
  }
  return lines;
}

// ---- Both protocol versions ------------------------------------------------

class MqttVersionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MqttVersionTest, IngestsQos0AndQos1ReadingsAndRaisesAlerts) {
  TempDir dir;
  Mosquitto site(dir);
  Foggate gw(dir, site, kHotDetector);
  gw.set_broker(broker_json(site, R"("mqtt_version":")" + GetParam() + "\""));
  gw.start();
  Probe probe(site.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  probe.subscribe("foggate/gw1/metrics", 0);
  probe.publish("sensors/at-most-once/temp", R"({"t":70})", 0);
  probe.publish("sensors/at-least-once/temp", R"({"t":71})", 1);
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/critical/+", 2)) << gw.log();
  EXPECT_EQ(probe.messages("foggate/gw1/alerts/critical/at-most-once").size(), 1u);
  EXPECT_EQ(probe.messages("foggate/gw1/alerts/critical/at-least-once").size(), 1u);

  EXPECT_EQ(gw.wait_metric(probe, "mqtt_acks_sent_total{client=ingest}", 1), 1) << "the QoS 1 reading only";
  EXPECT_EQ(gw.metric(probe, "mqtt_received_total{client=ingest}"), 2);
  EXPECT_EQ(gw.metric(probe, "mqtt_unacknowledged{client=ingest}"), 0);
  EXPECT_EQ(gw.metric(probe, "mqtt_protocol_errors_total{client=ingest}"), 0);
  EXPECT_EQ(gw.metric(probe, "mqtt_connected{client=ingest}"), 1);
  const auto connects = ingest_connects(gw.log());
  ASSERT_EQ(connects.size(), 1u) << gw.log();
  EXPECT_NE(connects[0].find(" mqtt=" + GetParam() + " "), std::string::npos) << connects[0];
  EXPECT_EQ(gw.log().find("does not speak MQTT 5"), std::string::npos) << "no fallback with mosquitto 2";
}

INSTANTIATE_TEST_SUITE_P(Versions, MqttVersionTest, ::testing::Values("3.1.1", "5"),
                         [](const auto& param_info) { return param_info.param == "5" ? std::string("Mqtt5") : "Mqtt311"; });

// ---- Acknowledged when safe -------------------------------------------------

class MqttIngestAckTest : public ::testing::Test {
 protected:
  MqttIngestAckTest()
      : site_(dir_, {.persistence = true}), upstream_(dir_, {.name = "upstream", .start = false}) {}

  // Readings are detected and forwarded; sensors/+/alarm goes upstream as
  // critical (its batch commits at once). `normal_batch`: messages that
  // seal a normal batch (0: the default, more than any test sends).
  std::string config(int normal_batch = 0) const {
    return std::string(kHotDetector) + R"(,
      "rules":{"ordered":[{"name":"alarm","topics":["sensors/+/alarm"],
                           "tasks":[{"task":"forward","priority":"critical"}]}],
               "default":[{"task":"detect","priority":"normal"},{"task":"forward","priority":"normal"}]},
      "uplink":{"uris":[")" + upstream_.uri() + R"("],"commit_interval_ms":60000)" +
           (normal_batch > 0 ? R"(,"batch":{"normal":{"max_messages":)" + std::to_string(normal_batch) + "}}" : "") +
           "}";
  }

  // Publishes kReadings QoS 1 readings through `site` (subscribed to the
  // metrics) and waits until the gateway has detected and forwarded all of
  // them and holds them unacknowledged.
  static void hold_readings(Foggate& gw, Probe& site) {
    publish_readings(site, 0, kReadings);
    ASSERT_EQ(gw.wait_metric(site, "uplink_accepted_total{priority=normal}", kReadings), kReadings) << gw.log();
    ASSERT_EQ(gw.wait_metric(site, "detector_evaluations_total", kReadings), kReadings);
    ASSERT_EQ(gw.metric(site, "mqtt_unacknowledged{client=ingest}"), kReadings);
  }

  TempDir dir_;
  Mosquitto site_;      // keeps sessions across its restarts
  Mosquitto upstream_;  // down unless a test starts it: the spool keeps the batches
};

TEST_F(MqttIngestAckTest, Qos1ReadingsStayUnacknowledgedUntilTheirBatchIsCommitted) {
  Foggate gw(dir_, site_, config(kReadings));
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/metrics", 0);
  ASSERT_NO_FATAL_FAILURE(hold_readings(gw, site));
  // The batch is sealed and written to the spool, not yet committed.
  EXPECT_EQ(gw.metric(site, "uplink_uncommitted_messages"), kReadings);
  EXPECT_EQ(gw.metric(site, "mqtt_acks_sent_total{client=ingest}"), 0);

  site.publish("sensors/door/alarm", reading(kReadings), 1);  // its commit takes the sealed batch along
  EXPECT_EQ(gw.wait_metric(site, "mqtt_acks_sent_total{client=ingest}", kReadings + 1), kReadings + 1) << gw.log();
  EXPECT_EQ(gw.metric(site, "mqtt_unacknowledged{client=ingest}"), 0);
  EXPECT_EQ(gw.metric(site, "uplink_uncommitted_messages"), 0);
  EXPECT_GE(gw.metric(site, "mqtt_ack_writes_total{client=ingest}"), 1);
  EXPECT_EQ(gw.metric(site, "mqtt_acks_abandoned_total{client=ingest}"), 0);
}

// MQTT-4.6.0-2: PUBACKs leave in the order the PUBLISHes arrived. A
// critical reading committed ahead of the open normal batch waits for it;
// the clean stop commits that batch, and every PUBACK goes out before the
// disconnect: the broker has nothing to deliver again.
TEST_F(MqttIngestAckTest, PubacksLeaveInArrivalOrderAndACleanStopSendsThemAll) {
  Foggate gw(dir_, site_, config());
  gw.start();
  {
    Probe site(site_.uri());
    site.subscribe("foggate/gw1/metrics", 0);
    ASSERT_NO_FATAL_FAILURE(hold_readings(gw, site));
    site.publish("sensors/door/alarm", reading(kReadings), 1);
    ASSERT_EQ(gw.wait_metric(site, "spool_batches{priority=critical}", 1), 1) << "the alarm is committed";
    EXPECT_EQ(gw.metric(site, "uplink_uncommitted_messages"), kReadings);
    EXPECT_EQ(gw.metric(site, "mqtt_unacknowledged{client=ingest}"), kReadings + 1);
    EXPECT_EQ(gw.metric(site, "mqtt_acks_sent_total{client=ingest}"), 0) << "the alarm's PUBACK overtook the rest";
  }
  ASSERT_EQ(gw.stop(), 0);
  EXPECT_EQ(gw.log().find("readings not yet safe"), std::string::npos) << gw.log();

  // Restarted: a hot reading now; anything not acknowledged would come first.
  gw.start();
  Probe site(site_.uri());
  site.subscribe("foggate/gw1/alerts/#");
  site.subscribe("foggate/gw1/metrics", 0);
  site.publish("sensors/marker/temp", reading(kReadings + 1, 99), 1);
  ASSERT_TRUE(site.wait_count("foggate/gw1/alerts/critical/marker", 1)) << gw.log();
  // Waited for: the alert can overtake a metrics document made just before
  // the reading came in. A redelivered reading would make it 2 and fail.
  EXPECT_EQ(gw.wait_metric(site, "messages_received_total{source=mqtt}", 1), 1) << gw.log();
  EXPECT_EQ(gw.metric(site, "mqtt_redelivered_total{client=ingest}"), 0);
}

// ---- The persistent session across broker restarts -------------------------

TEST(MqttIngestSessionTest, ReadingsPublishedWhileTheGatewayIsAwayAfterABrokerRestartAreProcessed) {
  TempDir dir;
  Mosquitto site(dir, {.persistence = true});
  Foggate gw(dir, site, "");
  gw.start();
  // Frozen, the gateway cannot reconnect: the readings are published before
  // it is back, into the session the broker restored from its file.
  gw.freeze();
  site.stop();
  site.start();
  {
    Probe sensors(site.uri());
    publish_readings(sensors, 0, kReadings);
  }
  gw.thaw();
  Probe probe(site.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  EXPECT_EQ(gw.wait_metric(probe, "messages_received_total{source=mqtt}", kReadings), kReadings) << gw.log();
  EXPECT_EQ(gw.metric(probe, "mqtt_acks_sent_total{client=ingest}"), kReadings);
  const auto connects = ingest_connects(gw.log());
  ASSERT_EQ(connects.size(), 2u) << gw.log();
  EXPECT_NE(connects[1].find("session_present=yes"), std::string::npos) << connects[1];
}

// Readings handed over and not yet acknowledged when the broker goes down
// are delivered again (DUP) on the next connection and processed again: at
// least once. Their first receipts then acknowledge nothing (abandoned).
TEST_F(MqttIngestAckTest, UnacknowledgedReadingsAreRedeliveredAfterABrokerRestart) {
  upstream_.start();
  Probe cloud(upstream_.uri());
  cloud.subscribe("foggate/gw1/uplink/#");
  Foggate gw(dir_, site_, config(kReadings));
  gw.start();
  {
    Probe sensors(site_.uri());
    sensors.subscribe("foggate/gw1/metrics", 0);
    ASSERT_NO_FATAL_FAILURE(hold_readings(gw, sensors));
  }
  site_.stop();  // the readings are in flight in the broker's session file
  site_.start();
  Probe sensors(site_.uri());
  sensors.subscribe("foggate/gw1/metrics", 0);
  ASSERT_EQ(gw.wait_metric(sensors, "mqtt_redelivered_total{client=ingest}", kReadings), kReadings) << gw.log();
  ASSERT_EQ(gw.wait_metric(sensors, "uplink_accepted_total{priority=normal}", 2 * kReadings), 2 * kReadings);

  sensors.publish("sensors/door/alarm", reading(kReadings), 1);  // commits both sealed batches
  EXPECT_EQ(gw.wait_metric(sensors, "mqtt_acks_sent_total{client=ingest}", kReadings + 1), kReadings + 1);
  EXPECT_EQ(gw.metric(sensors, "mqtt_acks_abandoned_total{client=ingest}"), kReadings);
  EXPECT_EQ(gw.metric(sensors, "mqtt_unacknowledged{client=ingest}"), 0);
  ASSERT_TRUE(cloud.wait_for(
      [](const std::vector<Received>& all) {
        const auto got = uplink_seqs(all);
        for (int i = 0; i <= kReadings; ++i)
          if (!got.contains(i)) return false;
        return true;
      },
      30s))
      << gw.log();
  const auto got = uplink_seqs(cloud.messages());
  RecordProperty("duplicates_upstream", static_cast<int>(got.size()) - (kReadings + 1));
}

// ---- Messages over max_packet_bytes -----------------------------------------

// MQTT 3.1.1 has no way to tell the broker the limit, so the connection
// skips what is too large: counted, acknowledged (it could never be taken),
// and the readings behind it flow on. (With MQTT 5 the broker itself drops
// what is over the announced Maximum Packet Size.)
TEST(MqttIngestLimitTest, MessagesOverMaxPacketBytesAreSkippedAndCounted) {
  TempDir dir;
  Mosquitto site(dir);
  Foggate gw(dir, site, "");
  gw.set_broker(broker_json(site, R"("mqtt_version":"3.1.1","max_packet_bytes":1024)"));
  gw.start();
  Probe probe(site.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  const std::string just_over(1100, 'x');
  const std::string far_over(300 * 1024, 'y');  // more than one read of the connection
  probe.publish("sensors/a/temp", reading(0), 1);
  probe.publish("sensors/big/temp", R"({"t":1,"pad":")" + just_over + "\"}", 1);
  probe.publish("sensors/b/temp", reading(1), 1);
  probe.publish("sensors/huge/temp", R"({"t":1,"pad":")" + far_over + "\"}", 1);
  probe.publish("sensors/c/temp", reading(2), 0);
  probe.publish("sensors/d/temp", reading(3), 1);

  EXPECT_EQ(gw.wait_metric(probe, "messages_received_total{source=mqtt}", 4), 4) << gw.log();
  EXPECT_EQ(gw.metric(probe, "mqtt_oversized_total{client=ingest}"), 2);
  EXPECT_EQ(gw.metric(probe, "mqtt_received_total{client=ingest}"), 6);
  EXPECT_EQ(gw.wait_metric(probe, "mqtt_acks_sent_total{client=ingest}", 5), 5) << "every QoS 1 one, skipped too";
  EXPECT_EQ(gw.metric(probe, "mqtt_connection_lost_total{client=ingest}"), 0);
  EXPECT_EQ(gw.metric(probe, "mqtt_protocol_errors_total{client=ingest}"), 0);
  EXPECT_TRUE(gw.log_shows("message over max_packet_bytes skipped")) << gw.log();
  EXPECT_TRUE(gw.running());
}

// ---- TLS with a login ----------------------------------------------------------

TEST(MqttIngestTlsTest, ReadingOverTlsWithUserNameAndPasswordRaisesAnAlert) {
  constexpr const char* kPassword = "gw-51ab-secret";
  TempDir dir;
  // The second listener: TLS and a login; probes use the plain anonymous one.
  Mosquitto site(dir, {.extra_listener = tls_listener_conf() + "\npassword_file " +
                                         password_file(dir, {{"gw", kPassword}}) + "\nallow_anonymous false"});
  dir.write("gw.pass", std::string(kPassword) + "\n");
  Foggate gw(dir, site, kHotDetector);
  const std::string secured = "ssl://localhost:" + std::to_string(site.extra_port());
  gw.set_broker(R"({"uris":[")" + secured + R"("],"username":"gw","password_file":")" + dir.file("gw.pass") +
                R"(","tls":{"ca_file":")" + pki("ca.crt") + R"("}})");
  gw.start();
  Probe probe(site.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  probe.subscribe("foggate/gw1/metrics", 0);
  probe.publish("sensors/boiler/temp", R"({"t":88})", 1);
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/critical/boiler", 1)) << gw.log();
  EXPECT_EQ(gw.wait_metric(probe, "mqtt_acks_sent_total{client=ingest}", 1), 1);
  EXPECT_EQ(gw.metric(probe, "mqtt_connect_failures_total{client=ingest}"), 0);
  const auto connects = ingest_connects(gw.log());
  ASSERT_EQ(connects.size(), 1u) << gw.log();
  EXPECT_NE(connects[0].find("uri=" + secured), std::string::npos) << connects[0];
  gw.stop();
  EXPECT_EQ(gw.log().find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace foggate::itest
