#include "foggate/routing/rule_set.h"

#include <gtest/gtest.h>

namespace foggate::routing {
namespace {

Message make_msg(std::string topic, std::string device, std::vector<Field> fields,
                 Source src = Source::kMqtt) {
  Message m;
  m.topic = std::move(topic);
  m.device = std::move(device);
  m.fields = std::move(fields);
  m.source = src;
  return m;
}

Predicate pred(std::string_view text) {
  auto r = parse_predicate(text);
  EXPECT_TRUE(r.has_value()) << text;
  return r.has_value() ? r.value() : Predicate{};
}

TEST(PredicateTest, ParsesOperatorsAndValues) {
  auto p = pred("t > 50");
  EXPECT_EQ(p.field, "t");
  EXPECT_EQ(p.op, Predicate::Op::kGt);
  EXPECT_EQ(std::get<double>(p.operand), 50);
  EXPECT_EQ(pred("t<=-1.5").op, Predicate::Op::kLe);
  EXPECT_EQ(std::get<double>(pred("t<=-1.5").operand), -1.5);
  EXPECT_EQ(std::get<std::string>(pred("status == \"fault\"").operand), "fault");
  EXPECT_EQ(std::get<bool>(pred("door != true").operand), true);
  EXPECT_EQ(pred("env.t").op, Predicate::Op::kExists);
}

TEST(PredicateTest, RejectsMalformed) {
  for (const char* bad : {"", "t >", "> 5", "t > abc", "t < true", "t ~ 5", "bad name > 1", "t > 1e999"}) {
    auto r = parse_predicate(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().reason, "bad_predicate");
  }
}

TEST(PredicateTest, EvaluatesByType) {
  auto m = make_msg("s/d/t", "d", {{"t", 51.0}, {"status", std::string("fault")}, {"door", true}});
  EXPECT_TRUE(pred("t > 50").holds(m));
  EXPECT_FALSE(pred("t > 51").holds(m));
  EXPECT_TRUE(pred("t >= 51").holds(m));
  EXPECT_TRUE(pred("status == \"fault\"").holds(m));
  EXPECT_FALSE(pred("status != \"fault\"").holds(m));
  EXPECT_TRUE(pred("door == true").holds(m));
  EXPECT_FALSE(pred("missing > 1").holds(m));
  EXPECT_FALSE(pred("status > 1").holds(m)) << "type mismatch is false";
  EXPECT_TRUE(pred("door").holds(m));
}

TEST(RuleSetTest, FirstMatchWinsAndDefaultApplies) {
  Rule hot{.name = "hot", .topics = {"sensors/+/temp"}, .when = {pred("t > 50")},
           .tasks = {{TaskKind::kDetect, Priority::kCritical, 100}}};
  Rule temp{.name = "temp", .topics = {"sensors/+/temp"},
            .tasks = {{TaskKind::kDetect, Priority::kNormal, 1000},
                      {TaskKind::kForward, Priority::kLow, 30000}}};
  Rule coap_only{.name = "coap", .source = Source::kCoap, .device = "pump-*",
                 .tasks = {{TaskKind::kDrop, Priority::kLow, 0}}};
  RuleSet rules({hot, temp, coap_only}, {{TaskKind::kForward, Priority::kLow, 60000}});

  auto& a = rules.classify(make_msg("sensors/d1/temp", "d1", {{"t", 60.0}}));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].priority, Priority::kCritical);

  auto& b = rules.classify(make_msg("sensors/d1/temp", "d1", {{"t", 20.0}}));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].kind, TaskKind::kForward);

  auto& c = rules.classify(make_msg("sensors/pump-3", "pump-3", {}, Source::kCoap));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, TaskKind::kDrop);

  auto& d = rules.classify(make_msg("sensors/pump-3", "pump-3", {}, Source::kMqtt));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].deadline_ms, 60000) << "mqtt source does not match the coap rule";

  MetricSink sink;
  rules.collect(sink);
  ASSERT_EQ(sink.size(), 4u);
  EXPECT_EQ(sink[0].value, 1);  // hot
  EXPECT_EQ(sink[1].value, 1);  // temp
  EXPECT_EQ(sink[2].value, 1);  // coap
  EXPECT_EQ(sink[3].value, 1);  // default
}

}  // namespace
}  // namespace foggate::routing
