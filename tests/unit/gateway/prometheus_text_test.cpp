#include "ops/prometheus_text.h"

#include <gtest/gtest.h>

namespace foggate::gateway {
namespace {

TEST(PrometheusTextTest, FamiliesTypesLabelsAndValues) {
  // collect() interleaves families (per queue); the text groups them.
  const MetricSink samples{
      {"tasks_queued_total", {{"queue", "0"}, {"priority", "low"}}, 3},
      {"queue_depth", {{"queue", "0"}}, 2},
      {"tasks_queued_total", {{"queue", "1"}, {"priority", "low"}}, 4},
      {"queue_depth", {{"queue", "1"}}, 0},
      {"uplink_compression_ratio", {}, 2.5},
      {"messages_received_total", {{"source", "coap"}}, 12345678901.0},
  };
  EXPECT_EQ(prometheus_text(samples),
            "# TYPE foggate_tasks_queued_total counter\n"
            "foggate_tasks_queued_total{queue=\"0\",priority=\"low\"} 3\n"
            "foggate_tasks_queued_total{queue=\"1\",priority=\"low\"} 4\n"
            "# TYPE foggate_queue_depth gauge\n"
            "foggate_queue_depth{queue=\"0\"} 2\n"
            "foggate_queue_depth{queue=\"1\"} 0\n"
            "# TYPE foggate_uplink_compression_ratio gauge\n"
            "foggate_uplink_compression_ratio 2.5\n"
            "# TYPE foggate_messages_received_total counter\n"
            "foggate_messages_received_total{source=\"coap\"} 12345678901\n");
}

TEST(PrometheusTextTest, LabelValuesAreEscapedAndNamesSanitized) {
  const MetricSink samples{{"rule_matches_total", {{"rule", "a \"b\"\\c\nd"}}, 1},
                           {"bad-name.x", {{"la-bel", "v"}}, 1}};
  const std::string text = prometheus_text(samples);
  EXPECT_NE(text.find("foggate_rule_matches_total{rule=\"a \\\"b\\\"\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("foggate_bad_name_x{la_bel=\"v\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(prometheus_name("9lives"), "_lives");
  EXPECT_EQ(prometheus_name("a:b"), "a:b");
  EXPECT_EQ(prometheus_name("a:b", true), "a_b");
}

TEST(PrometheusTextTest, OneSamplePerSeries) {
  const MetricSink samples{{"x_total", {{"k", "a,b=c"}}, 1}, {"x_total", {{"k", "a"}, {"b", "c"}}, 2},
                           {"x_total", {{"k", "a,b=c"}}, 9}};
  EXPECT_EQ(prometheus_text(samples),
            "# TYPE foggate_x_total counter\n"
            "foggate_x_total{k=\"a,b=c\"} 1\n"
            "foggate_x_total{k=\"a\",b=\"c\"} 2\n");
}

TEST(PrometheusTextTest, SpecialValuesAndTexts) {
  const MetricSink samples{{"g", {}, std::numeric_limits<double>::quiet_NaN()},
                           {"h", {}, std::numeric_limits<double>::infinity()},
                           {"i", {}, -0.125}};
  const std::string text = prometheus_text(samples, {{"uplink_last_error", "connect refused: \"nope\""}});
  EXPECT_NE(text.find("foggate_g NaN\n"), std::string::npos);
  EXPECT_NE(text.find("foggate_h +Inf\n"), std::string::npos);
  EXPECT_NE(text.find("foggate_i -0.125\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE foggate_uplink_last_error_info gauge\n"
                      "foggate_uplink_last_error_info{message=\"connect refused: \\\"nope\\\"\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(PrometheusTextTest, MetricTextsAreClampedAtAUtf8Boundary) {
  std::string s(kMetricTextMax - 1, 'a');
  s += "\xC3\xA9tail";  // é straddles the limit
  const std::string c = clamp_metric_text(s);
  EXPECT_EQ(c, std::string(kMetricTextMax - 1, 'a'));
  EXPECT_EQ(clamp_metric_text("short"), "short");
}

}  // namespace
}  // namespace foggate::gateway
