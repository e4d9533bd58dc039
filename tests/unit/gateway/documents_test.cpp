#include "documents.h"

#include <gtest/gtest.h>

#include "foggate/protocols/json.h"

namespace foggate::gateway {
namespace {

TEST(DocumentsTest, AlertTopicAndJson) {
  routing::Alert a{.kind = routing::AlertKind::kRaised, .detector = "hot", .severity = "critical",
                   .device = "pump/1+", .field = "t", .topic = "sensors/pump/t", .value = 51.5, .limit = 50,
                   .sensor_ts_ms = 1700000000000, .received_ms = 1700000000100};
  EXPECT_EQ(alert_topic("gw", a), "foggate/gw/alerts/critical/pump_1_");
  auto doc = protocols::parse_json(alert_json("gw", a));
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->find("gateway")->as_string(), "gw");
  EXPECT_EQ(doc->find("device")->as_string(), "pump/1+") << "the payload keeps the real id";
  EXPECT_EQ(doc->find("kind")->as_string(), "raised");
  EXPECT_EQ(doc->find("value")->as_number(), 51.5);
  EXPECT_EQ(doc->find("limit")->as_number(), 50);
  EXPECT_EQ(doc->find("sensor_ts_ms")->as_number(), 1700000000000.0);
  EXPECT_EQ(doc->find("received_ms")->as_number(), 1700000000100.0);
}

TEST(DocumentsTest, AlertLeavesOutAnUnknownSensorTimestamp) {
  routing::Alert a{.kind = routing::AlertKind::kRaised, .detector = "hot", .severity = "critical",
                   .device = "pump-1", .field = "t", .value = 51.5, .limit = 50, .received_ms = 1700000000100};
  auto doc = protocols::parse_json(alert_json("gw", a));
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->find("sensor_ts_ms"), nullptr) << "no timestamp in the reading: no field, not 0 (1970)";
  EXPECT_EQ(doc->find("received_ms")->as_number(), 1700000000100.0);
}

TEST(DocumentsTest, StatusAndMetrics) {
  auto s = protocols::parse_json(status_json("gw", "offline", "stopped", 0));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->find("state")->as_string(), "offline");
  EXPECT_EQ(s->find("reason")->as_string(), "stopped");
  MetricSink sink{{"a_total", {{"source", "mqtt"}, {"reason", "x"}}, 3}, {"b", {}, 1.5}};
  auto m = protocols::parse_json(metrics_json("gw", 5, sink));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->find("metrics")->find("a_total{source=mqtt,reason=x}")->as_number(), 3);
  EXPECT_EQ(m->find("metrics")->find("b")->as_number(), 1.5);
  EXPECT_EQ(m->find("info"), nullptr) << "no texts, no info member";
  auto t = protocols::parse_json(metrics_json("gw", 5, sink, {{"uplink_last_error", "refused \"x\""}}));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->find("info")->find("uplink_last_error")->as_string(), "refused \"x\"");
  EXPECT_EQ(t->find("metrics")->find("b")->as_number(), 1.5);
}

}  // namespace
}  // namespace foggate::gateway
