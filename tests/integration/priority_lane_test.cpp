// The priority lane: ingest entries with "lane": "priority" get their own
// connection and broker queue, so their messages overtake a backlog on the
// normal subscription (docs/configuration.md, "The priority lane").
#include "fixture.h"

namespace foggate::itest {
namespace {

class PriorityLaneTest : public ::testing::Test {
 protected:
  PriorityLaneTest() : broker_(dir_) {}

  static std::string device_of(const Received& alert) {
    auto doc = protocols::parse_json(alert.payload);
    return doc ? doc->find("device")->as_string() : "";
  }

  TempDir dir_;
  Mosquitto broker_;
};

TEST_F(PriorityLaneTest, AlarmOvertakesABacklogQueuedOnTheNormalLane) {
  constexpr int kBacklog = 5000;
  Foggate gw(dir_, broker_, kHotDetector);
  gw.set_ingest_mqtt(R"([{"filter":"sensors/#"},
                         {"filter":"alarms/#","lane":"priority","pattern":"alarms/{device}/{metric}"}])");
  gw.start();
  ASSERT_EQ(gw.stop(), 0);  // both persistent sessions now queue in the broker

  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  for (int i = 0; i < kBacklog; ++i) probe.publish("sensors/b" + std::to_string(i % 100) + "/temp", R"({"t":20})");
  probe.publish("sensors/last/temp", R"({"t":99})");  // raises an alert at the end of the backlog
  probe.publish("alarms/fire/temp", R"({"t":99})");   // published after all of it

  gw.start();
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 2, 60s)) << gw.log();
  const auto alerts = probe.messages("foggate/gw1/alerts/#");
  EXPECT_EQ(device_of(alerts[0]), "fire") << "the alarm waited behind the backlog";
  EXPECT_EQ(device_of(alerts[1]), "last");
  probe.subscribe("foggate/gw1/metrics", 0);
  EXPECT_EQ(gw.wait_metric(probe, "messages_received_total{source=mqtt}", kBacklog + 2), kBacklog + 2);
  EXPECT_EQ(gw.metric(probe, "mqtt_lane_duplicates_total"), 0);
}

TEST_F(PriorityLaneTest, MessageMatchingBothLanesIsTakenOnceFromThePriorityLane) {
  Foggate gw(dir_, broker_, kHotDetector);
  gw.set_ingest_mqtt(R"([{"filter":"sensors/#"},{"filter":"sensors/+/smoke","lane":"priority"}])");
  gw.start();
  Probe probe(broker_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  probe.subscribe("foggate/gw1/alerts/#");
  probe.publish("sensors/s1/smoke", R"({"t":99})");
  probe.publish("sensors/s2/temp", R"({"t":20})");
  ASSERT_EQ(gw.wait_metric(probe, "mqtt_lane_duplicates_total", 1), 1) << gw.log();
  EXPECT_EQ(gw.wait_metric(probe, "detector_evaluations_total", 2), 2);
  EXPECT_EQ(gw.metric(probe, "messages_received_total{source=mqtt}"), 2);
  EXPECT_EQ(gw.metric(probe, "mqtt_connected{client=ingest-priority}"), 1);
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1));
  EXPECT_EQ(probe.messages("foggate/gw1/alerts/#").size(), 1u);
}

}  // namespace
}  // namespace foggate::itest
