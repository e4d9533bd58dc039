// Sensor readings over MQTT in, alerts over MQTT out, through a real
// mosquitto and the real foggate binary.
#include <cmath>

#include "fixture.h"

namespace foggate::itest {
namespace {

class AlertsTest : public ::testing::Test {
 protected:
  AlertsTest() : broker_(dir_) {}

  TempDir dir_;
  Mosquitto broker_;
};

TEST_F(AlertsTest, ThresholdRaisesOnceThenClearsOnceAndInRangeStaysQuiet) {
  Foggate gw(dir_, broker_, kHotDetector);
  gw.start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  probe.subscribe("foggate/gw1/metrics", 0);

  // d1 crosses and comes back; d2 stays in range throughout.
  for (double v : {20.0, 51.0, 55.0, 49.5, 47.0, 30.0})
    probe.publish("sensors/d1/temp", R"({"t":)" + std::to_string(v) + R"(,"ts":1700000000})");
  for (double v : {20.0, 30.0, 49.9})
    probe.publish("sensors/d2/temp", R"({"t":)" + std::to_string(v) + "}");

  ASSERT_EQ(gw.wait_metric(probe, "detector_evaluations_total", 9), 9) << gw.log();
  EXPECT_EQ(gw.wait_metric(probe, "alerts_published_total", 2), 2);
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 2));
  auto alerts = probe.messages("foggate/gw1/alerts/#");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].topic, "foggate/gw1/alerts/critical/d1");
  auto raised = protocols::parse_json(alerts[0].payload);
  auto cleared = protocols::parse_json(alerts[1].payload);
  ASSERT_TRUE(raised && cleared) << alerts[0].payload;
  EXPECT_EQ(raised->find("kind")->as_string(), "raised");
  EXPECT_EQ(raised->find("gateway")->as_string(), "gw1");
  EXPECT_EQ(raised->find("device")->as_string(), "d1");
  EXPECT_EQ(raised->find("field")->as_string(), "t");
  EXPECT_EQ(raised->find("detector")->as_string(), "overheat");
  EXPECT_EQ(raised->find("value")->as_number(), 51.0);
  EXPECT_EQ(raised->find("sensor_ts_ms")->as_number(), 1700000000000.0);
  EXPECT_GT(raised->find("received_ms")->as_number(), 1.6e12);
  EXPECT_EQ(cleared->find("kind")->as_string(), "cleared");
  EXPECT_EQ(cleared->find("value")->as_number(), 47.0) << "49.5 is not inside by the hysteresis";
}

TEST_F(AlertsTest, MalformedPayloadsAreCountedLoggedOnceAndNothingElseIsLost) {
  Foggate gw(dir_, broker_, kHotDetector);
  gw.start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  probe.subscribe("foggate/gw1/metrics", 0);

  probe.publish("sensors/d1/temp", R"({"t":51})");  // raises
  for (int i = 0; i < 3; ++i) probe.publish("sensors/d1/temp", R"({"t": 5)");  // truncated JSON
  probe.publish("sensors/d1/temp", std::string("\xde\xff\xff", 3));            // msgpack map that never ends
  probe.publish("sensors/d1/temp", "hello");                                   // not a number
  probe.publish("sensors/d1/temp", R"({"t":40})");  // clears: state survived the garbage

  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 2)) << gw.log();
  EXPECT_EQ(gw.wait_metric(probe, "messages_malformed_total{source=mqtt}", 5), 5);
  EXPECT_EQ(gw.metric(probe, "decode_errors_total{source=mqtt,reason=json_syntax}"), 3);
  EXPECT_EQ(gw.metric(probe, "messages_accepted_total{source=mqtt}"), 2);
  EXPECT_TRUE(gw.running());

  // Logged once per reason, not once per message.
  const std::string log = gw.log();
  std::size_t json_lines = 0;
  for (std::size_t p = log.find("reason=json_syntax"); p != std::string::npos; p = log.find("reason=json_syntax", p + 1))
    ++json_lines;
  EXPECT_EQ(json_lines, 1u) << log;
  EXPECT_EQ(protocols::parse_json(probe.messages("foggate/gw1/alerts/#")[1].payload)->find("kind")->as_string(),
            "cleared");
}

TEST_F(AlertsTest, RulesRouteByPredicateAndDropIsCounted) {
  Foggate gw(dir_, broker_, std::string(kHotDetector) + R"(,
    "rules":{"ordered":[
      {"name":"ignore-test-rigs","device":"rig-*","tasks":[{"task":"drop"}]},
      {"name":"hot","topics":["sensors/+/temp"],"when":["t > 50"],
       "tasks":[{"task":"detect","priority":"critical"}]}],
      "default":[{"task":"detect","priority":"low"}]})");
  gw.start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  probe.subscribe("foggate/gw1/metrics", 0);
  probe.publish("sensors/rig-1/temp", R"({"t":99})");  // dropped by rule: no alert
  probe.publish("sensors/d7/temp", R"({"t":99})");     // critical detect: alert
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw.log();
  EXPECT_EQ(gw.wait_metric(probe, "messages_dropped_by_rule_total{source=mqtt}", 1), 1);
  EXPECT_EQ(gw.metric(probe, "rule_matches_total{rule=hot}"), 1);
  EXPECT_EQ(gw.metric(probe, "rule_matches_total{rule=ignore-test-rigs}"), 1);
  EXPECT_EQ(gw.metric(probe, "tasks_queued_total{queue=0,priority=critical}") +
                gw.metric(probe, "tasks_queued_total{queue=1,priority=critical}"),
            1);
  auto alerts = probe.messages("foggate/gw1/alerts/#");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].topic, "foggate/gw1/alerts/critical/d7");
}

TEST_F(AlertsTest, AnomalyAfterWarmupOverBareNumberPayloads) {
  Foggate gw(dir_, broker_, R"("detectors":[
    {"name":"spike","type":"anomaly","field":"vib","z":4,"window":20,"warmup":10,
     "severity":"warning","cooldown_ms":0}])");
  gw.start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  // Bare numbers: the field is named after the {metric} topic level.
  for (int i = 0; i < 30; ++i) probe.publish("sensors/m1/vib", i % 2 ? "1.5" : "0.5");
  probe.publish("sensors/m1/vib", "9");
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw.log();
  auto a = protocols::parse_json(probe.messages("foggate/gw1/alerts/#")[0].payload);
  EXPECT_EQ(a->find("kind")->as_string(), "anomaly");
  EXPECT_EQ(a->find("value")->as_number(), 9);
  EXPECT_EQ(probe.messages("foggate/gw1/alerts/#")[0].topic, "foggate/gw1/alerts/warning/m1");
}

TEST_F(AlertsTest, PresenceOnlineRetainedThenOfflineOnStopAndOnCrash) {
  Foggate gw(dir_, broker_, "");
  gw.start();
  {
    Probe late(broker_.uri());  // subscribes after the fact: the status is retained
    late.subscribe("foggate/gw1/status");
    ASSERT_TRUE(late.wait_count("foggate/gw1/status", 1));
    EXPECT_NE(late.messages()[0].payload.find("\"state\":\"online\""), std::string::npos);
    EXPECT_TRUE(late.messages()[0].retained);
  }
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/status");
  ASSERT_EQ(gw.stop(), 0);
  ASSERT_TRUE(probe.wait_for([](const std::vector<Received>& all) {
    return !all.empty() && all.back().payload.find("\"reason\":\"stopped\"") != std::string::npos;
  }));
  gw.start();
  gw.kill9();
  // The broker publishes the Last Will when the socket dies.
  EXPECT_TRUE(probe.wait_for([](const std::vector<Received>& all) {
    return !all.empty() && all.back().payload.find("\"reason\":\"connection lost\"") != std::string::npos;
  }));
}

}  // namespace
}  // namespace foggate::itest
