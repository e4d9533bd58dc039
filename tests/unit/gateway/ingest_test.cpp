#include "ingest.h"

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
    return ingest_->accept(std::move(m), true);
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
