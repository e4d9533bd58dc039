// Metrics end to end: a known load (valid and malformed MQTT readings, CoAP
// requests) through the real foggate, then the exact counts on the metrics
// topic and the same values on the Prometheus listener; hostile HTTP
// requests are refused and counted while the gateway goes on.
#include <map>
#include <regex>
#include <sstream>

#include "fixture.h"
#include "loopback_http.h"

namespace foggate::itest {
namespace {

std::string http(uint16_t port, const std::string& request) { return testing_support::http_exchange(port, request); }

// The samples of a Prometheus page: series ("foggate_x{k=\"v\"}") to value.
std::map<std::string, double> parse_page(const std::string& response) {
  std::map<std::string, double> out;
  const auto body = response.find("\r\n\r\n");
  std::istringstream in(body == std::string::npos ? "" : response.substr(body + 4));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

// A metrics-topic key ("name{k=v,k2=v2}") as its Prometheus series.
std::string series(const std::string& key) {
  const auto brace = key.find('{');
  if (brace == std::string::npos) return "foggate_" + key;
  std::string out = "foggate_" + key.substr(0, brace + 1);
  std::istringstream labels(key.substr(brace + 1, key.size() - brace - 2));
  bool first = true;
  for (std::string kv; std::getline(labels, kv, ',');) {
    const auto eq = kv.find('=');
    out += (first ? "" : ",") + kv.substr(0, eq) + "=\"" + kv.substr(eq + 1) + "\"";
    first = false;
  }
  return out + "}";
}

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest()
      : site_(dir_),
        cloud_(dir_, {.name = "cloud"}),
        http_port_(free_tcp_port()),
        gw_(dir_, site_,
            R"("uplink":{"uris":[")" + cloud_.uri() + R"("],"commit_interval_ms":100,
                         "username":"gw1","password":"s3cret-pw"})") {
    gw_.set_metrics_extra(R"("prometheus":{"enabled":true,"bind":"127.0.0.1","port":)" +
                          std::to_string(http_port_) + "}");
    gw_.start();
  }

  std::string coap_post(const std::string& body, const std::string& path) {
    auto out = run_command({COAP_CLIENT_BIN, "-B", "5", "-v", "7", "-m", "post", "-t", "50", "-e", body,
                            "coap://127.0.0.1:" + std::to_string(gw_.coap_port()) + path});
    std::smatch m;
    return std::regex_search(out, m, std::regex(R"(c:([2-5]\.[0-9][0-9]))")) ? std::string(m[1]) : out;
  }

  // The newest metrics document, parsed.
  protocols::JsonValue latest(Probe& probe) {
    auto doc = protocols::parse_json(probe.messages("foggate/gw1/metrics").back().payload);
    EXPECT_TRUE(doc.has_value());
    return doc ? std::move(*doc) : protocols::JsonValue{};
  }

  // Sum over every queue of a per-queue counter for one priority.
  static double over_queues(const protocols::JsonValue& metrics, const std::string& name, const std::string& pr) {
    double sum = 0;
    for (const auto& [key, v] : metrics.members())
      if (key.starts_with(name + "{queue=") && key.ends_with(",priority=" + pr + "}")) sum += v.as_number();
    return sum;
  }

  TempDir dir_;
  Mosquitto site_;
  Mosquitto cloud_;
  uint16_t http_port_;
  Foggate gw_;
};

TEST_F(MetricsTest, KnownLoadCountsMatchOnTheTopicAndTheListener) {
  Probe probe(site_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  constexpr int kValid = 20, kMalformed = 5, kCoap = 3;
  for (int i = 0; i < kValid; ++i) probe.publish("sensors/dev-" + std::to_string(i % 4) + "/t", R"({"t":20.5})");
  for (int i = 0; i < kMalformed; ++i) probe.publish("sensors/bad/t", R"({"t":)");
  for (int i = 0; i < kCoap; ++i) EXPECT_EQ(coap_post(R"({"t":21})", "/sensors/c-1/t"), "2.04");

  const double accepted = kValid + kCoap;  // each: detect (normal) + forward (low)
  ASSERT_EQ(gw_.wait_metric(probe, "messages_received_total{source=mqtt}", kValid + kMalformed), kValid + kMalformed)
      << gw_.log();
  ASSERT_EQ(gw_.wait_metric(probe, "uplink_messages_sent_total{priority=low}", accepted), accepted) << gw_.log();
  ASSERT_EQ(gw_.wait_metric(probe, "spool_batches{priority=low}", 0), 0);

  const auto doc = latest(probe);
  const auto& m = *doc.find("metrics");
  auto num = [&](const std::string& key) {
    const auto* v = m.find(key);
    return v != nullptr && v->is_number() ? v->as_number() : -1.0;
  };
  EXPECT_EQ(num("messages_received_total{source=mqtt}"), kValid + kMalformed);
  EXPECT_EQ(num("messages_accepted_total{source=mqtt}"), kValid);
  EXPECT_EQ(num("messages_malformed_total{source=mqtt}"), kMalformed);
  EXPECT_EQ(num("decode_errors_total{source=mqtt,reason=json_syntax}"), kMalformed);
  EXPECT_EQ(num("messages_received_total{source=coap}"), kCoap);
  EXPECT_EQ(num("messages_accepted_total{source=coap}"), kCoap);
  EXPECT_EQ(num("coap_responses_total{outcome=accepted}"), kCoap);
  EXPECT_EQ(over_queues(m, "tasks_queued_total", "normal"), accepted);
  EXPECT_EQ(over_queues(m, "tasks_done_total", "normal"), accepted);
  EXPECT_EQ(over_queues(m, "tasks_queued_total", "low"), accepted);
  EXPECT_EQ(num("uplink_accepted_total{priority=low}"), accepted);
  EXPECT_GT(num("uplink_bytes_sent_total{priority=low}"), 0);
  EXPECT_GT(num("uplink_compression_ratio"), 0);
  EXPECT_EQ(num("uplink_connected"), 1);
  EXPECT_GE(num("task_wait_p50_ms"), 0);
  EXPECT_GE(num("task_wait_p99_ms"), num("task_wait_p50_ms"));
  EXPECT_GT(num("process_rss_bytes"), 0);
  ASSERT_NE(doc.find("info"), nullptr) << "an uplink is configured";
  EXPECT_TRUE(doc.find("info")->find("uplink_last_error")->is_string());

  // The listener: the same values, from the same collect().
  const std::string response = http(http_port_, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response.substr(0, 200);
  EXPECT_NE(response.find("# TYPE foggate_messages_received_total counter\n"), std::string::npos);
  EXPECT_NE(response.find("# TYPE foggate_queue_depth gauge\n"), std::string::npos);
  EXPECT_EQ(response.find("s3cret-pw"), std::string::npos) << "no secret on the page";
  EXPECT_EQ(probe.messages("foggate/gw1/metrics").back().payload.find("s3cret-pw"), std::string::npos);
  const auto page = parse_page(response);
  EXPECT_EQ(page.at(R"(foggate_messages_received_total{source="coap"})"), kCoap);
  for (const std::string key :
       {"messages_received_total{source=mqtt}", "messages_accepted_total{source=mqtt}",
        "messages_malformed_total{source=mqtt}", "decode_errors_total{source=mqtt,reason=json_syntax}",
        "messages_received_total{source=coap}", "messages_accepted_total{source=coap}",
        "coap_responses_total{outcome=accepted}", "tasks_queued_total{queue=0,priority=normal}",
        "tasks_queued_total{queue=1,priority=low}", "tasks_shed_total{queue=0,priority=low,reason=expired}",
        "queue_depth{queue=0}", "alerts_total{kind=raised}", "detectors_tracked", "uplink_accepted_total{priority=low}",
        "uplink_messages_sent_total{priority=low}", "uplink_bytes_sent_total{priority=low}",
        "uplink_raw_bytes_sent_total", "uplink_compression_ratio", "uplink_connected",
        "spool_batches{priority=low}", "spool_bytes{priority=low}", "spool_evicted_batches_total{priority=low}",
        "spool_expired_batches_total{priority=low}", "mqtt_connected{client=publish}"}) {
    ASSERT_TRUE(page.contains(series(key))) << series(key);
    EXPECT_EQ(page.at(series(key)), num(key)) << key;
  }
  EXPECT_TRUE(page.contains("foggate_task_wait_p99_ms"));
  EXPECT_TRUE(page.contains("foggate_process_cpu_percent"));
  EXPECT_TRUE(page.contains(R"(foggate_uplink_last_error_info{message=""})")) << "connected from the start";
}

TEST_F(MetricsTest, HostileRequestsAreRefusedCountedAndTheGatewayGoesOn) {
  EXPECT_TRUE(http(http_port_, "GET /admin HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
  EXPECT_TRUE(http(http_port_, "HELLO\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(http(http_port_, "DELETE /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
  // Over the 8 KiB limit, yet small enough that the listener's drain takes
  // the rest and its close sends no reset over the answer.
  const std::string huge = "GET /metrics HTTP/1.1\r\nCookie: " + std::string(32 << 10, 'x') + "\r\n\r\n";
  EXPECT_TRUE(http(http_port_, huge).starts_with("HTTP/1.1 431"));
  ASSERT_TRUE(gw_.running());

  Probe probe(site_.uri());
  probe.subscribe("foggate/gw1/metrics", 0);
  probe.publish("sensors/dev-1/t", R"({"t":1})");
  ASSERT_EQ(gw_.wait_metric(probe, "messages_received_total{source=mqtt}", 1), 1) << gw_.log();
  EXPECT_EQ(gw_.metric(probe, "prometheus_requests_total{outcome=not_found}"), 1);
  const auto page = parse_page(http(http_port_, "GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(page.at(R"(foggate_messages_received_total{source="mqtt"})"), 1);
  EXPECT_EQ(page.at(R"(foggate_prometheus_requests_total{outcome="not_found"})"), 1);
  EXPECT_EQ(page.at(R"(foggate_prometheus_requests_total{outcome="bad_request"})"), 1);
  EXPECT_EQ(page.at(R"(foggate_prometheus_requests_total{outcome="method_not_allowed"})"), 1);
  EXPECT_EQ(page.at(R"(foggate_prometheus_requests_total{outcome="too_large"})"), 1);

  // The cloud goes away: the reason shows as text on both.
  cloud_.stop();
  ASSERT_EQ(gw_.wait_metric(probe, "uplink_connected", 0), 0);
  std::string last_error;
  for (int i = 0; i < 50 && last_error.empty(); ++i) {
    (void)gw_.metric(probe, "uplink_connected");
    auto doc = protocols::parse_json(probe.messages("foggate/gw1/metrics").back().payload);
    ASSERT_TRUE(doc.has_value());
    last_error = doc->find("info")->find("uplink_last_error")->as_string();
  }
  EXPECT_FALSE(last_error.empty());
  const std::string text = http(http_port_, "GET /metrics HTTP/1.1\r\n\r\n");
  const std::regex info(R"(foggate_uplink_last_error_info\{message="([^"\\]|\\.)+"\} 1)");
  EXPECT_TRUE(std::regex_search(text, info)) << text;
}

}  // namespace
}  // namespace foggate::itest
