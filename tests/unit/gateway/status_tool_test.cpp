#include "tools/status_tool.h"

#include <gtest/gtest.h>

#include "documents.h"

namespace foggate::gateway {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(StatusToolTest, SummarizesAnOnlineGateway) {
  GatewayDocuments d;
  d.status = status_json("gw1", "online", "", 1'700'000'000'000);
  MetricSink m{{"messages_received_total", {{"source", "mqtt"}}, 120},
               {"messages_received_total", {{"source", "coap"}}, 4},
               {"messages_malformed_total", {{"source", "mqtt"}}, 2},
               {"alerts_published_total", {}, 3},
               {"queue_depth", {{"queue", "0"}}, 5},
               {"queue_depth", {{"queue", "1"}}, 2},
               {"tasks_shed_total", {{"queue", "0"}, {"priority", "low"}, {"reason", "queue_full"}}, 7},
               {"tasks_routed_total", {{"action", "offload"}, {"priority", "low"}}, 9},
               {"uplink_connected", {}, 0},
               {"spool_batches", {{"priority", "low"}}, 3},
               {"spool_oldest_age_ms", {{"priority", "low"}}, 65'000},
               {"process_rss_bytes", {}, 12.5 * (1 << 20)},
               {"process_cpu_percent", {}, 1.5}};
  d.metrics = metrics_json("gw1", 1'700'003'723'000, m);
  d.config_state = R"({"time_ms":1,"sections":{"rules":{"layer":"all","version":42},"detectors":{"layer":"file",
    "rejected":{"layer":"gw1","version":7,"at_ms":1,"errors":[]}}}})";
  const auto s = summarize_status("gw1", d, 15, 0);
  EXPECT_TRUE(s.online);
  EXPECT_TRUE(has(s.text, "gw1: online since 2023-11-14 22:13:20 UTC, foggate ")) << s.text;
  EXPECT_TRUE(has(s.text, "uptime:      1h 2m 3s")) << s.text;
  EXPECT_TRUE(has(s.text, "messages in: mqtt 120, coap 4; malformed 2")) << s.text;
  EXPECT_TRUE(has(s.text, "queues:      depth 7; shed 7, offloaded 9")) << s.text;
  EXPECT_TRUE(has(s.text, "uplink:      disconnected; spool 3 batches (0.0 KiB), oldest 1m 5s")) << s.text;
  EXPECT_TRUE(has(s.text, "process:     RSS 12.5 MiB, CPU 1.5%")) << s.text;
  EXPECT_TRUE(has(s.text, "config:      rules all v42, detectors file")) << s.text;
  EXPECT_TRUE(has(s.text, "rejected:    detectors v7 (gw1)")) << s.text;
}

// Issue #15: the degraded state per priority, once it ever happened.
TEST(StatusToolTest, ShowsDegradedForwardingPerPriority) {
  GatewayDocuments d;
  d.status = status_json("gw1", "online", "", 1'700'000'000'000);
  MetricSink m{{"uplink_connected", {}, 1},
               {"spool_batches", {{"priority", "low"}}, 1},
               {"uplink_degraded", {{"priority", "normal"}}, 0},
               {"uplink_degraded", {{"priority", "low"}}, 1},
               {"uplink_summarized_readings_total", {{"priority", "normal"}}, 0},
               {"uplink_summarized_readings_total", {{"priority", "low"}}, 5000},
               {"uplink_summaries_sent_total", {{"priority", "low"}}, 40},
               {"uplink_degraded_seconds_total", {{"priority", "low"}}, 3723.4}};
  d.metrics = metrics_json("gw1", 1'700'000'100'000, m);
  const auto s = summarize_status("gw1", d, 15, 0);
  EXPECT_TRUE(has(s.text, "degraded:    normal full resolution (0 readings summarized, 0 summaries sent, degraded 0s); "
                          "low SUMMARIZING (5000 readings summarized, 40 summaries sent, degraded 1h 2m 3s)"))
      << s.text;
  // Never degraded: no line.
  MetricSink quiet{{"uplink_connected", {}, 1}, {"uplink_degraded", {{"priority", "low"}}, 0}};
  d.metrics = metrics_json("gw1", 1'700'000'100'000, quiet);
  EXPECT_FALSE(has(summarize_status("gw1", d, 15, 0).text, "degraded:")) << summarize_status("gw1", d, 15, 0).text;
}

TEST(StatusToolTest, OfflineAndUnknownAreNotOnline) {
  GatewayDocuments d;
  d.status = status_json("gw1", "offline", "connection lost", 0);
  auto s = summarize_status("gw1", d, 15, 0);
  EXPECT_FALSE(s.online);
  EXPECT_TRUE(has(s.text, "gw1: offline (connection lost)")) << s.text;

  s = summarize_status("gw1", {}, 15, 0);
  EXPECT_FALSE(s.online);
  EXPECT_TRUE(has(s.text, "gw1: unknown (no status published within 15 s")) << s.text;

  d.status = "not json";
  EXPECT_FALSE(summarize_status("gw1", d, 15, 0).online);
}

TEST(StatusToolTest, OnlineWithoutMetricsSaysSo) {
  GatewayDocuments d;
  d.status = status_json("gw1", "online", "", 1'000);
  const auto s = summarize_status("gw1", d, 3, 61'000);
  EXPECT_TRUE(s.online);
  EXPECT_TRUE(has(s.text, "uptime:      1m 0s")) << s.text;
  EXPECT_TRUE(has(s.text, "metrics:     none within 3 s")) << s.text;
}

}  // namespace
}  // namespace foggate::gateway
