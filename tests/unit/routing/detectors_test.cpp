#include "foggate/routing/detectors.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

class DetectorsTest : public ::testing::Test {
 protected:
  std::vector<Alert> feed(DetectorBank& bank, std::string device, double v, std::string field = "t") {
    Message m;
    m.device = std::move(device);
    m.topic = "sensors/" + m.device + "/temp";
    m.fields.push_back({std::move(field), v});
    m.sensor_ts_ms = 42;
    std::vector<Alert> out;
    bank.evaluate(m, out);
    clock_.advance_ms(1000);
    return out;
  }
  static DetectorSpecs specs(std::vector<DetectorSpec> v) {
    return std::make_shared<const std::vector<DetectorSpec>>(std::move(v));
  }
  ManualClock clock_;
  DetectorStats stats_;
};

DetectorSpec threshold(double max, double hysteresis, int64_t cooldown = 0) {
  return DetectorSpec{.name = "hot", .type = DetectorType::kThreshold, .field = "t",
                      .cooldown_ms = cooldown, .max = max, .hysteresis = hysteresis};
}

TEST_F(DetectorsTest, ThresholdRaisesOnceAndClearsOnceWithHysteresis) {
  DetectorBank bank(specs({threshold(50, 2)}), clock_, stats_);
  std::vector<std::string> kinds;
  for (double v : {20.0, 49.0, 51.0, 55.0, 49.5, 50.5, 48.5, 47.9, 30.0}) {
    for (auto& a : feed(bank, "d1", v)) {
      kinds.emplace_back(to_string(a.kind));
      EXPECT_EQ(a.device, "d1");
      EXPECT_EQ(a.limit, 50);
      EXPECT_EQ(a.sensor_ts_ms, 42);
    }
  }
  // 49.5 and 48.5 are inside [.., 50] but not by the 2.0 hysteresis.
  EXPECT_EQ(kinds, (std::vector<std::string>{"raised", "cleared"}));
  EXPECT_EQ(stats_.raised.value(), 1u);
  EXPECT_EQ(stats_.cleared.value(), 1u);
}

TEST_F(DetectorsTest, ThresholdMinBoundAndPerDeviceState) {
  DetectorSpec s{.name = "cold", .type = DetectorType::kThreshold, .field = "t", .cooldown_ms = 0, .min = 0};
  DetectorBank bank(specs({s}), clock_, stats_);
  EXPECT_EQ(feed(bank, "a", -1).size(), 1u);
  EXPECT_EQ(feed(bank, "b", 5).size(), 0u);
  EXPECT_EQ(feed(bank, "a", -2).size(), 0u);
  auto out = feed(bank, "a", 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kCleared);
  EXPECT_EQ(bank.tracked(), 2u);
  EXPECT_EQ(stats_.tracked.value(), 2);
}

TEST_F(DetectorsTest, CooldownSuppressesRaiseAndItsClear) {
  DetectorBank bank(specs({threshold(50, 0, 10'000)}), clock_, stats_);
  EXPECT_EQ(feed(bank, "d", 60).size(), 1u);   // raised at t=0
  EXPECT_EQ(feed(bank, "d", 40).size(), 1u);   // cleared
  EXPECT_EQ(feed(bank, "d", 60).size(), 0u);   // re-raise within 10 s: suppressed
  EXPECT_EQ(feed(bank, "d", 40).size(), 0u);   // its clear too
  EXPECT_EQ(stats_.suppressed.value(), 2u);
  clock_.advance_ms(10'000);
  auto out = feed(bank, "d", 60);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kRaised);
}

TEST_F(DetectorsTest, AnomalyAfterWarmup) {
  DetectorSpec s{.name = "spike", .type = DetectorType::kAnomaly, .field = "t", .cooldown_ms = 0,
                 .z = 4, .window = 20, .warmup = 10};
  DetectorBank bank(specs({s}), clock_, stats_);
  int alerts = 0;
  // A noisy but steady signal: no anomaly.
  for (int i = 0; i < 60; ++i) alerts += static_cast<int>(feed(bank, "d", 20 + (i % 2 ? 0.5 : -0.5)).size());
  EXPECT_EQ(alerts, 0);
  auto out = feed(bank, "d", 40);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kAnomaly);
  EXPECT_GT(out[0].score, 4);
  EXPECT_NEAR(out[0].limit, 20, 0.5);
}

TEST_F(DetectorsTest, AnomalyNeedsWarmup) {
  DetectorSpec s{.name = "spike", .type = DetectorType::kAnomaly, .field = "t", .cooldown_ms = 0,
                 .z = 2, .window = 20, .warmup = 10};
  DetectorBank bank(specs({s}), clock_, stats_);
  int alerts = 0;
  for (double v : {1.0, 2.0, 1.0, 2.0, 100.0}) alerts += static_cast<int>(feed(bank, "d", v).size());
  EXPECT_EQ(alerts, 0);
}

TEST_F(DetectorsTest, IgnoresOtherFieldsDevicesAndNonNumbers) {
  DetectorSpec s = threshold(50, 0);
  s.device = "pump-*";
  DetectorBank bank(specs({s}), clock_, stats_);
  EXPECT_TRUE(feed(bank, "valve-1", 99).empty());
  EXPECT_TRUE(feed(bank, "pump-1", 99, "h").empty());
  Message m;
  m.device = "pump-1";
  m.fields.push_back({"t", std::string("hot")});
  std::vector<Alert> out;
  bank.evaluate(m, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(stats_.evaluations.value(), 0u);
}

TEST_F(DetectorsTest, SetSpecsKeepsStateOfUnchangedDetectors) {
  DetectorBank bank(specs({threshold(50, 0)}), clock_, stats_);
  EXPECT_EQ(feed(bank, "d", 60).size(), 1u);
  auto changed = threshold(55, 0);  // same name/type/field: state kept
  bank.set_specs(specs({changed}));
  auto out = feed(bank, "d", 40);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kCleared);
  auto renamed = threshold(50, 0);
  renamed.name = "other";
  bank.set_specs(specs({renamed}));
  EXPECT_EQ(bank.tracked(), 0u);
  EXPECT_EQ(stats_.tracked.value(), 0);
}

TEST_F(DetectorsTest, StateIsCappedLeastRecentlySeenFirst) {
  DetectorBank bank(specs({threshold(50, 0)}), clock_, stats_, 2);
  EXPECT_EQ(feed(bank, "a", 60).size(), 1u);  // a raised
  EXPECT_EQ(feed(bank, "b", 60).size(), 1u);  // b raised
  EXPECT_TRUE(feed(bank, "a", 61).empty());   // a seen again: b is now the oldest
  EXPECT_EQ(feed(bank, "c", 10).size(), 0u);  // c evicts b
  EXPECT_EQ(stats_.evicted.value(), 1u);
  EXPECT_EQ(bank.tracked(), 2u);
  EXPECT_EQ(stats_.tracked.value(), 2);
  // a kept its state: back inside clears; b starts afresh: no clear for it.
  auto out = feed(bank, "a", 40);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kCleared);
  EXPECT_TRUE(feed(bank, "b", 40).empty());
}

TEST_F(DetectorsTest, CapAndRecencySurviveADetectorChange) {
  auto t2 = threshold(50, 0);
  t2.name = "second";
  DetectorBank bank(specs({threshold(50, 0), t2}), clock_, stats_, 3);
  feed(bank, "a", 60);  // two states: (hot,a) (second,a)
  bank.set_specs(specs({t2}));  // "hot" dropped with its state
  EXPECT_EQ(bank.tracked(), 1u);
  feed(bank, "b", 60);
  feed(bank, "c", 60);
  EXPECT_EQ(stats_.evicted.value(), 0u) << "dropped states freed their places";
  feed(bank, "d", 60);
  EXPECT_EQ(stats_.evicted.value(), 1u);
  EXPECT_EQ(bank.tracked(), 3u);
}

// The alarm store said the alarm was active when foggate stopped.
TEST(DetectorRestoreTest, RestoredThresholdAlarmClearsOnTheFirstReadingInside) {
  ManualClock clock;
  DetectorStats stats;
  auto specs = std::make_shared<const std::vector<DetectorSpec>>(
      std::vector<DetectorSpec>{{.name = "hot", .field = "t", .max = 50, .hysteresis = 2}});
  DetectorBank bank(specs, clock, stats);
  bank.restore_alarmed("hot", "d1", 50);
  Message m;
  m.device = "d1";
  m.fields.push_back({"t", 60.0});
  std::vector<Alert> out;
  bank.evaluate(m, out);
  EXPECT_TRUE(out.empty()) << "still above: no second raise";
  m.fields[0] = {"t", 40.0};
  bank.evaluate(m, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, AlertKind::kCleared);
}

}  // namespace
}  // namespace foggate::routing
