// The ingest session is persistent: what sensors publish while foggate is
// down is delivered when it comes back, by the broker, not lost.
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
