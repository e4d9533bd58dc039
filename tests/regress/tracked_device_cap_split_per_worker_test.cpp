// What broke: gateway.max_tracked_devices was split evenly over the
// workers, but devices hash unevenly, so a gateway evicted detector state
// (and lost a raised alert's clear) while it tracked fewer devices than the
// cap. The cap is the gateway's, shared by all workers.
#include <functional>
#include <string>
#include <string_view>

#include "fixture.h"

namespace foggate::itest {
namespace {

TEST(TrackedDeviceCapSplitPerWorker, CapIsTheGatewaysNotAnEvenSplitPerWorker) {
  constexpr int kDevices = 16;
  TempDir dir;
  Mosquitto broker(dir);
  Foggate gw(dir, broker, kHotDetector, "gw1", R"("workers":2,"max_tracked_devices":16)");
  gw.start();
  Probe probe(broker.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  int on_first = 0;
  for (int i = 0; i < kDevices; ++i) {
    const std::string device = "cap-" + std::to_string(i);
    on_first += std::hash<std::string_view>{}(device) % 2 == 0;
    probe.publish("sensors/" + device + "/temp", R"({"t":20})");
  }
  ASSERT_NE(on_first, kDevices / 2) << "the test needs devices spread unevenly over the two workers";
  ASSERT_EQ(gw.wait_metric(probe, "detector_evaluations_total", kDevices), kDevices) << gw.log();
  EXPECT_EQ(gw.metric(probe, "detectors_tracked"), kDevices);
  EXPECT_EQ(gw.metric(probe, "detector_states_evicted_total"), 0);
}

}  // namespace
}  // namespace foggate::itest
