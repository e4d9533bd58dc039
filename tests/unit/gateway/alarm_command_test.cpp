#include "alarms/alarm_command.h"

#include <gtest/gtest.h>

#include "alarms/alarm_document.h"

namespace foggate::gateway {
namespace {

constexpr int64_t kMaxShelve = 3'600'000;

Result<AlarmCommand> parse(std::string_view topic, std::string_view body, bool retained = false) {
  return parse_alarm_command("gw1", topic, body, retained, kMaxShelve);
}

TEST(AlarmCommandTest, AckWithOperatorAndComment) {
  auto c = parse("foggate/gw1/alarms/d1/overheat/ack", R"({"operator":"alice","comment":"valve checked"})");
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->verb, AlarmVerb::kAck);
  EXPECT_EQ(c->key.device, "d1");
  EXPECT_EQ(c->key.detector, "overheat");
  EXPECT_EQ(c->op, "alice");
  EXPECT_EQ(c->comment, "valve checked");
}

TEST(AlarmCommandTest, ShelveWithDurationAndUnshelve) {
  auto s = parse("foggate/gw1/alarms/d1/overheat/shelve", R"({"operator":"bob","duration_ms":60000})");
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->verb, AlarmVerb::kShelve);
  EXPECT_EQ(s->duration_ms, 60000);
  auto u = parse("foggate/gw1/alarms/d1/overheat.stale/unshelve", R"({"operator":"bob"})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->verb, AlarmVerb::kUnshelve);
  EXPECT_EQ(u->key.detector, "overheat.stale");
}

struct Refusal {
  const char* topic;
  const char* body;
  bool retained;
  const char* reason;
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.reason << " " << r.topic << " " << r.body; }

class AlarmCommandRefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(AlarmCommandRefusalTest, IsRefusedWithItsReason) {
  const auto& p = GetParam();
  auto c = parse(p.topic, p.body, p.retained);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().reason, p.reason) << c.error().detail;
  EXPECT_EQ(c.error().kind, ErrorKind::kPermanent);
}

constexpr const char* kAck = "foggate/gw1/alarms/d1/hot/ack";
constexpr const char* kShelve = "foggate/gw1/alarms/d1/hot/shelve";

INSTANTIATE_TEST_SUITE_P(
    Malformed, AlarmCommandRefusalTest,
    ::testing::Values(Refusal{kAck, R"({"operator":"a"})", true, "retained"},
                      Refusal{"foggate/gw2/alarms/d1/hot/ack", R"({"operator":"a"})", false, "bad_topic"},
                      Refusal{"foggate/gw1/alarms/d1/ack", R"({"operator":"a"})", false, "bad_topic"},
                      Refusal{"foggate/gw1/alarms/d1/hot/ack/x", R"({"operator":"a"})", false, "bad_topic"},
                      Refusal{"foggate/gw1/alarms/d1//ack", R"({"operator":"a"})", false, "bad_topic"},
                      Refusal{"foggate/gw1/alarms/d1/hot/silence", R"({"operator":"a"})", false, "unknown_command"},
                      Refusal{kAck, "ack!", false, "bad_json"},
                      Refusal{kAck, "[1]", false, "bad_json"},
                      Refusal{kAck, "{}", false, "bad_operator"},
                      Refusal{kAck, R"({"operator":""})", false, "bad_operator"},
                      Refusal{kAck, R"({"operator":7})", false, "bad_operator"},
                      Refusal{kAck, R"({"operator":"a\nb"})", false, "bad_operator"},
                      Refusal{kAck, R"({"operator":"a","comment":5})", false, "bad_comment"},
                      Refusal{kAck, R"({"operator":"a","duration_ms":5})", false, "unknown_key"},
                      Refusal{kAck, R"({"operator":"a","by":"b"})", false, "unknown_key"},
                      Refusal{kShelve, R"({"operator":"a"})", false, "bad_duration"},
                      Refusal{kShelve, R"({"operator":"a","duration_ms":0})", false, "bad_duration"},
                      Refusal{kShelve, R"({"operator":"a","duration_ms":1.5})", false, "bad_duration"},
                      Refusal{kShelve, R"({"operator":"a","duration_ms":3600001})", false, "bad_duration"},
                      Refusal{kShelve, R"({"operator":"a","duration_ms":"1h"})", false, "bad_duration"}),
    [](const ::testing::TestParamInfo<Refusal>& p) {
      return std::string(p.param.reason) + "_" + std::to_string(p.index);
    });

TEST(AlarmCommandTest, OversizedBodyIsRefused) {
  auto c = parse(kAck, std::string(kMaxCommandBytes + 1, ' '));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().reason, "too_large");
}

TEST(AlarmDocumentTest, RoundTripsEveryField) {
  routing::Alarm a;
  a.device = "d1";
  a.detector = "hot";
  a.kind = "threshold";
  a.severity = "critical";
  a.field = "t";
  a.state = routing::AlarmState::kActiveAcked;
  a.value = 55.5;
  a.limit = 50;
  a.first_raised_ms = 1'700'000'000'000;
  a.last_raised_ms = 1'700'000'001'000;
  a.reraises = 3;
  a.acked_by = "alice \"the\" operator";
  a.ack_comment = "ok";
  a.acked_ms = 1'700'000'002'000;
  a.shelved_by = "bob";
  a.shelve_comment = "maintenance";
  a.shelved_until_ms = 1'700'000'009'000;
  const std::string doc = alarm_json("gw1", a);
  auto b = parse_alarm_json(doc);
  ASSERT_TRUE(b) << doc;
  EXPECT_EQ(alarm_json("gw1", *b), doc);
  EXPECT_NE(doc.find("\"state\":\"active-acknowledged\""), std::string::npos) << doc;
  EXPECT_EQ(doc.find("cleared_ms"), std::string::npos) << "left out while active";
}

TEST(AlarmDocumentTest, TopicsAndWhatIsNotADocument) {
  EXPECT_EQ(alarm_topic("gw1", {"d/1", "hot"}), "foggate/gw1/alarms/d_1/hot");
  EXPECT_EQ(alarm_command_filter("gw1"), "foggate/gw1/alarms/+/+/+");
  EXPECT_FALSE(parse_alarm_json("{}"));
  EXPECT_FALSE(parse_alarm_json("not json"));
  EXPECT_FALSE(parse_alarm_json(R"({"device":"d","detector":"x","kind":"threshold","state":"on","severity":"info"})"));
}

}  // namespace
}  // namespace foggate::gateway
