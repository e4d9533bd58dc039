// The ingest session is persistent: what sensors publish while foggate is
// down is delivered when it comes back, by the broker, not lost.
#include <fstream>
#include <iterator>

#include "fixture.h"

namespace foggate::itest {
namespace {

TEST(SessionTest, MessagesPublishedWhileDownAreProcessedAfterRestart) {
  TempDir dir;
  Mosquitto broker(dir);
  Foggate gw(dir, broker, R"("detectors":[
    {"name":"overheat","type":"threshold","field":"t","max":50,"cooldown_ms":0}])");
  gw.start();  // creates the persistent session and its subscription
  ASSERT_EQ(gw.stop(), 0);

  Probe probe(broker.uri());
  probe.subscribe("foggate/gw1/alerts/#");
  // 3 devices cross the threshold while the gateway is down.
  for (const char* d : {"a", "b", "c"}) probe.publish(std::string("sensors/") + d + "/temp", R"({"t":60})");

  gw.start();
  ASSERT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 3)) << gw.log();
  std::vector<std::string> topics;
  for (const auto& m : probe.messages("foggate/gw1/alerts/#")) topics.push_back(m.topic);
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics, (std::vector<std::string>{"foggate/gw1/alerts/warning/a", "foggate/gw1/alerts/warning/b",
                                              "foggate/gw1/alerts/warning/c"}));
}

// The broker's persistent session outlives foggate's configuration: a
// filter taken out of the file must be unsubscribed after the restart, or
// the broker keeps queueing (and delivering) messages nobody configured.
TEST(SessionTest, FilterRemovedFromTheFileIsUnsubscribedAfterRestart) {
  TempDir dir;
  Mosquitto broker(dir);
  Foggate gw(dir, broker, "");
  gw.set_ingest_mqtt(R"([{"filter":"sensors/#"},{"filter":"legacy/#","pattern":"legacy/{device}/{metric}"}])");
  gw.start();
  ASSERT_EQ(gw.stop(), 0);
  gw.set_ingest_mqtt(R"([{"filter":"sensors/#"}])");
  gw.start();  // online: the stale filter was unsubscribed before the SUBACK
  ASSERT_EQ(gw.stop(), 0);
  EXPECT_NE(gw.log().find("unsubscribed filters no longer configured"), std::string::npos) << gw.log();
  std::ifstream in(dir.file("data-gw1/ingest-subscriptions.json"));
  const std::string memory((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(memory.find("sensors/#"), std::string::npos) << memory;
  EXPECT_EQ(memory.find("legacy/#"), std::string::npos) << memory;

  Probe probe(broker.uri());
  // Queued for the session in this order while foggate is down; a stale
  // legacy/# would deliver the first before the second.
  probe.publish("legacy/old-1/temp", R"({"t":1})");
  probe.publish("sensors/new-1/temp", R"({"t":2})");
  probe.subscribe("foggate/gw1/metrics", 0);
  gw.start();
  EXPECT_GE(gw.wait_metric(probe, "messages_received_total{source=mqtt}", [](double v) { return v >= 1; }), 1);
  EXPECT_EQ(gw.metric(probe, "messages_received_total{source=mqtt}"), 1) << gw.log();
  EXPECT_EQ(gw.metric(probe, "messages_pattern_mismatch_total{source=mqtt}"), 0) << gw.log();
}

TEST(SessionTest, ReconnectsAfterBrokerRestart) {
  TempDir dir;
  Mosquitto broker(dir);
  Foggate gw(dir, broker, R"("detectors":[
    {"name":"overheat","type":"threshold","field":"t","max":50,"cooldown_ms":0}])");
  gw.start();
  broker.stop();
  broker.start();  // same port; persistence is off, so the session is new
  Probe probe(broker.uri());
  probe.subscribe("foggate/gw1/status");
  // foggate re-announces itself once it has reconnected and re-subscribed.
  ASSERT_TRUE(probe.wait_for(
      [](const std::vector<Received>& all) {
        for (const auto& m : all)
          if (m.payload.find("\"state\":\"online\"") != std::string::npos) return true;
        return false;
      },
      40s))
      << gw.log();
  probe.subscribe("foggate/gw1/alerts/#");
  probe.publish("sensors/x/temp", R"({"t":70})");
  EXPECT_TRUE(probe.wait_count("foggate/gw1/alerts/#", 1)) << gw.log();
}

}  // namespace
}  // namespace foggate::itest
