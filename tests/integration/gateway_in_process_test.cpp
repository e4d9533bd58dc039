// foggate::gateway::Gateway constructed in this process (every other
// integration test runs the binary): a Config parsed from a document,
// Gateway::start() against a real mosquitto, a reading in over Paho, the
// alert out, collect() read directly, and Gateway::stop() leaving the
// retained status offline.
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fixture.h"
#include "foggate/base/counter.h"
#include "foggate/gateway/config.h"
#include "foggate/gateway/gateway.h"

namespace foggate::itest {
namespace {

// The value of one sample of collect(), or -1 when there is none.
double sample(const gateway::Gateway& gw, std::string_view name, std::string_view label, std::string_view value) {
  MetricSink out;
  gw.collect(out);
  for (const auto& s : out) {
    if (s.name != name) continue;
    for (const auto& [k, v] : s.labels)
      if (k == label && v == value) return s.value;
  }
  return -1;
}

bool has_state(const Received& m, std::string_view state) {
  return m.payload.find("\"state\":\"" + std::string(state) + "\"") != std::string::npos;
}

TEST(GatewayInProcessTest, StartAlertCollectStop) {
  TempDir dir;
  Mosquitto broker(dir);
  // CoAP off: this test is about the MQTT path and binds no UDP port.
  auto config = gateway::parse_config(
      R"({"gateway":{"id":"gw-inproc","data_dir":")" + dir.file("data") + R"("},)"
      R"("broker":{"uris":[")" + broker.uri() + R"("]},)"
      R"("ingest":{"coap":{"enabled":false}},)" + kHotDetector + "}");
  ASSERT_TRUE(config) << gateway::format_issues(config.error());

  Probe probe(broker.uri());
  probe.subscribe("foggate/gw-inproc/status");
  probe.subscribe("foggate/gw-inproc/alerts/#");

  // SystemClock (the default): the MQTT clients and the supervisor pace
  // reconnects by it, and nothing here depends on driving time by hand.
  gateway::Gateway gw(std::move(*config));
  auto started = gw.start();
  ASSERT_TRUE(started) << started.error().reason << ": " << started.error().detail;
  // "online" once the ingest subscriptions are acknowledged: nothing
  // published after this is missed.
  ASSERT_TRUE(probe.wait_for([](const std::vector<Received>& all) {
    return !all.empty() && has_state(all.back(), "online");
  }));

  probe.publish("sensors/d1/temp", R"({"t":51})");  // above max 50: raises
  ASSERT_TRUE(probe.wait_count("foggate/gw-inproc/alerts/#", 1));
  const auto alerts = probe.messages("foggate/gw-inproc/alerts/#");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].topic, "foggate/gw-inproc/alerts/critical/d1");
  auto alert = protocols::parse_json(alerts[0].payload);
  ASSERT_TRUE(alert) << alerts[0].payload;
  EXPECT_EQ(alert->find("kind")->as_string(), "raised");
  EXPECT_EQ(alert->find("value")->as_number(), 51.0);

  // Counted on the way in, before the task that raised the alert was queued.
  EXPECT_EQ(sample(gw, "messages_received_total", "source", "mqtt"), 1);
  EXPECT_TRUE(eventually([&] { return sample(gw, "alerts_total", "kind", "raised") == 1; }, 5s));

  gw.stop();
  ASSERT_TRUE(probe.wait_for([](const std::vector<Received>& all) {
    return !all.empty() && has_state(all.back(), "offline");
  }));
  EXPECT_NE(probe.messages("foggate/gw-inproc/status").back().payload.find("\"reason\":\"stopped\""),
            std::string::npos);
  // Retained: a client that subscribes after the stop sees "offline".
  Probe late(broker.uri());
  late.subscribe("foggate/gw-inproc/status");
  ASSERT_TRUE(late.wait_count("foggate/gw-inproc/status", 1));
  const auto status = late.messages("foggate/gw-inproc/status");
  EXPECT_TRUE(status[0].retained);
  EXPECT_TRUE(has_state(status[0], "offline")) << status[0].payload;
}

// This process's threads by name, with their nice values.
std::map<std::string, int> threads_by_name() {
  std::map<std::string, int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(e.path() / "comm");
    std::string name;
    std::getline(in, name);
    out[name] = getpriority(PRIO_PROCESS, static_cast<id_t>(std::stoi(e.path().filename().string())));
  }
  return out;
}

// Every thread is named as architecture.md's thread table says, and the
// uplink and alarm-store threads run gateway.background_nice steps below
// the others, so that under CPU overload reading and alerting come first.
TEST(GatewayInProcessTest, ThreadsAreNamedAndTheBackgroundOnesYield) {
  TempDir dir;
  Mosquitto broker(dir);
  Mosquitto cloud(dir);
  const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (base > 19 - 4) GTEST_SKIP() << "the test already runs at nice " << base;
  auto config = gateway::parse_config(
      R"({"gateway":{"id":"gw-threads","background_nice":4,"data_dir":")" + dir.file("data") + R"("},)"
      R"("broker":{"uris":[")" + broker.uri() + R"("]},)"
      R"("uplink":{"uris":[")" + cloud.uri() + R"("]},)"
      R"("ingest":{"coap":{"enabled":false}},)" + kHotDetector + "}");
  ASSERT_TRUE(config) << gateway::format_issues(config.error());
  gateway::Gateway gw(std::move(*config));
  auto started = gw.start();
  ASSERT_TRUE(started) << started.error().reason << ": " << started.error().detail;

  const std::vector<std::string> named = {"worker-0", "worker-1", "alarms",   "mqtt-alerts",
                                           "mqtt-ingest", "supervisor", "uplink", "alarm-store"};
  std::map<std::string, int> threads;
  // Each thread names itself once it runs.
  const bool all_named = eventually([&] {
    threads = threads_by_name();
    for (const auto& n : named)
      if (!threads.count(n)) return false;
    return true;
  }, 5s);
  ASSERT_TRUE(all_named);
  for (const char* name : {"worker-0", "worker-1", "alarms", "mqtt-alerts", "mqtt-ingest", "supervisor"})
    EXPECT_EQ(threads[name], base) << name;
  EXPECT_EQ(threads["uplink"], base + 4);
  EXPECT_EQ(threads["alarm-store"], base + 4);
  gw.stop();
}

}  // namespace
}  // namespace foggate::itest
