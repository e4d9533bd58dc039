#include "ingress/ingest.h"

#include <gtest/gtest.h>

namespace foggate::gateway {
namespace {

class IngestTest : public ::testing::Test {
 protected:
  IngestTest() {
    queues_.push_back(std::make_unique<routing::TaskQueue>(routing::TaskQueueOptions{.capacity = 2}, clock_));
    ingest_ = std::make_unique<Ingest>(clock_, queues_, 2, protocols::DecodeOptions{});
    using routing::TaskKind;
    routing::Rule fire{.name = "fire", .when = {*routing::parse_predicate("smoke > 0.5")},
                       .tasks = {{TaskKind::kDetect, Priority::kCritical, 100}}};
    routing::Rule ignore{.name = "ignore", .device = "rig-*", .tasks = {{TaskKind::kDrop, Priority::kLow, 0}}};
    ingest_->set_rules(std::make_shared<const routing::RuleSet>(
        std::vector<routing::Rule>{fire, ignore},
        std::vector<routing::TaskSpec>{{TaskKind::kDetect, Priority::kNormal, 5000}}));
  }

  Ingest::Verdict coap(std::string device, std::string body) {
    Message m;
    m.source = Source::kCoap;
    m.device = std::move(device);
    m.topic = "sensors/" + m.device;
    m.payload = std::move(body);
    return ingest_->accept(std::move(m), Ingest::WhenFull::kRefuse);
  }

  ManualClock clock_;
  std::vector<std::unique_ptr<routing::TaskQueue>> queues_;
  std::unique_ptr<Ingest> ingest_;
};

TEST_F(IngestTest, FullQueueRefusesWithBackpressureButNotCritical) {
  EXPECT_EQ(coap("a", R"({"t":1})").outcome, Ingest::Outcome::kAccepted);
  EXPECT_EQ(coap("b", R"({"t":1})").outcome, Ingest::Outcome::kAccepted);
  EXPECT_EQ(coap("c", R"({"t":1})").outcome, Ingest::Outcome::kOverloaded);
  EXPECT_EQ(ingest_->stats(Source::kCoap).overloaded.value(), 1u);
  EXPECT_EQ(queues_[0]->stats().shed_total(), 0u) << "refused, not shed";
  // A critical task still gets in: it displaces queued normal work.
  EXPECT_EQ(coap("d", R"({"smoke":0.9})").outcome, Ingest::Outcome::kAccepted);
  EXPECT_EQ(queues_[0]->size(), 2u);
  EXPECT_EQ(queues_[0]->try_pop()->priority, Priority::kCritical);
}

TEST_F(IngestTest, MalformedIsCountedByReasonAndDropRuleIsCounted) {
  auto v = coap("a", R"({"t":)");
  EXPECT_EQ(v.outcome, Ingest::Outcome::kMalformed);
  EXPECT_NE(v.reason.find("json_syntax"), std::string::npos) << v.reason;
  EXPECT_EQ(coap("rig-1", R"({"t":1})").outcome, Ingest::Outcome::kAccepted);
  EXPECT_EQ(ingest_->stats(Source::kCoap).dropped_by_rule.value(), 1u);
  EXPECT_EQ(queues_[0]->size(), 0u);
  MetricSink sink;
  ingest_->collect(sink);
  bool found = false;
  for (const auto& s : sink)
    if (s.name == "decode_errors_total" && s.labels[1].second == "json_syntax") found = s.value == 1;
  EXPECT_TRUE(found);
}

TEST_F(IngestTest, StampsReceiveTimesAndSharesOneMessageBetweenTasks) {
  using routing::TaskKind;
  routing::Rule both{.name = "both",
                     .tasks = {{TaskKind::kDetect, Priority::kHigh, 10}, {TaskKind::kForward, Priority::kLow, 20}}};
  ingest_->set_rules(std::make_shared<const routing::RuleSet>(std::vector<routing::Rule>{both},
                                                              std::vector<routing::TaskSpec>{}));
  ASSERT_EQ(coap("x", "42").outcome, Ingest::Outcome::kAccepted);
  auto a = queues_[0]->try_pop();
  auto b = queues_[0]->try_pop();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->message.get(), b->message.get());
  EXPECT_EQ(a->message->received_ms, clock_.wall_ms());
  EXPECT_EQ(a->deadline_mono_ms, clock_.mono_ms() + 10);
  EXPECT_EQ(b->deadline_mono_ms, clock_.mono_ms() + 20);
  ASSERT_NE(a->message->field("value"), nullptr) << "bare number without a metric";
}

}  // namespace
}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

// Routing under load through Ingest: the queue's wait estimate comes from
// the service time the worker reports, so the test sets it directly.
class IngestOverloadTest : public ::testing::Test {
 protected:
  IngestOverloadTest() {
    queues_.push_back(std::make_unique<routing::TaskQueue>(routing::TaskQueueOptions{.capacity = 100}, clock_));
    ingest_ = std::make_unique<Ingest>(clock_, queues_, 100, protocols::DecodeOptions{});
    using routing::OverloadAction;
    using routing::TaskKind;
    routing::Rule vib{.name = "vibration", .device = "pump-*",
                      .tasks = {{TaskKind::kDetect, Priority::kNormal, 50, OverloadAction::kOffload}}};
    routing::Rule door{.name = "doors", .device = "door-*",
                       .tasks = {{TaskKind::kDetect, Priority::kLow, 50, OverloadAction::kShed}}};
    routing::Rule fire{.name = "fire", .device = "smoke-*", .tasks = {{TaskKind::kDetect, Priority::kCritical, 50}}};
    ingest_->set_rules(std::make_shared<const routing::RuleSet>(
        std::vector<routing::Rule>{vib, door, fire},
        std::vector<routing::TaskSpec>{{TaskKind::kDetect, Priority::kNormal, 50}}));
    ingest_->set_offload([this](std::shared_ptr<const Message> m, Priority p) {
      offloaded_.push_back({m->device, p});
    });
  }

  void send(const std::string& device) {
    Message m;
    m.source = Source::kMqtt;
    m.device = device;
    m.topic = "sensors/" + device;
    m.payload = R"({"v":1})";
    ASSERT_EQ(ingest_->accept(std::move(m), Ingest::WhenFull::kShed).outcome, Ingest::Outcome::kAccepted);
  }

  double routed(const std::string& action, const std::string& priority) const {
    MetricSink sink;
    ingest_->collect(sink);
    for (const auto& s : sink)
      if (s.name == "tasks_routed_total" && s.labels[0].second == action && s.labels[1].second == priority) return s.value;
    return -1;
  }

  ManualClock clock_;
  std::vector<std::unique_ptr<routing::TaskQueue>> queues_;
  std::unique_ptr<Ingest> ingest_;
  std::vector<std::pair<std::string, Priority>> offloaded_;
};

TEST_F(IngestOverloadTest, WithinDeadlinesEverythingIsQueued) {
  queues_[0]->record_service_us(1000);  // 1 ms per task
  for (int i = 0; i < 10; ++i) send("pump-1");  // at most 10 ms of wait, deadline 50 ms
  send("door-1");
  EXPECT_EQ(queues_[0]->size(), 11u);
  EXPECT_TRUE(offloaded_.empty());
  EXPECT_EQ(routed("shed", "low"), 0);
}

TEST_F(IngestOverloadTest, AMissedDeadlineOffloadsShedsOrKeepsPerPolicy) {
  queues_[0]->record_service_us(10'000);  // 10 ms per task
  for (int i = 0; i < 5; ++i) send("other-" + std::to_string(i));  // default rule: keep; 50 ms queued
  send("pump-1");   // would wait 50 ms: past its 50 ms deadline? 0 + 50 > 50 is false -> queued
  send("pump-2");   // 60 ms ahead -> offloaded
  send("door-1");   // low: everything ahead, 60 ms -> shed
  send("smoke-1");  // critical: always queued
  send("other-9");  // keep: queued and runs late
  EXPECT_EQ(queues_[0]->size(), 8u);
  ASSERT_EQ(offloaded_.size(), 1u);
  EXPECT_EQ(offloaded_[0], std::make_pair(std::string("pump-2"), Priority::kNormal));
  EXPECT_EQ(routed("offload", "normal"), 1);
  EXPECT_EQ(routed("shed", "low"), 1);
  EXPECT_EQ(routed("shed", "critical"), 0);
}

TEST_F(IngestOverloadTest, PressureAppliesPoliciesEvenWithAnEmptyQueue) {
  ingest_->set_pressure(true);
  send("pump-1");
  send("door-1");
  send("smoke-1");
  send("other-1");
  EXPECT_EQ(offloaded_.size(), 1u);
  EXPECT_EQ(routed("shed", "low"), 1);
  EXPECT_EQ(queues_[0]->size(), 2u);  // critical and keep
  ingest_->set_pressure(false);
  send("pump-1");
  EXPECT_EQ(offloaded_.size(), 1u);
}

}  // namespace
}  // namespace foggate::gateway
