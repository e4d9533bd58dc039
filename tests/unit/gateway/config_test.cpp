#include "foggate/gateway/config.h"

#include <gtest/gtest.h>

namespace foggate::gateway {
namespace {

ConfigIssues issues_of(std::string_view doc) {
  auto r = parse_config(doc);
  return r ? ConfigIssues{} : r.error();
}

bool has_issue(const ConfigIssues& issues, std::string_view path, std::string_view fragment = "") {
  for (const auto& i : issues)
    if (i.path == path && i.message.find(fragment) != std::string::npos) return true;
  return false;
}

TEST(ConfigTest, EmptyDocumentGivesDefaults) {
  auto r = parse_config("{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->gateway.id.empty());
  EXPECT_EQ(r->broker.client_id, "foggate-" + r->gateway.id);
  EXPECT_EQ(r->broker.uris, std::vector<std::string>{"tcp://127.0.0.1:1883"});
  EXPECT_EQ(r->ingest.coap.port, 5683);
  EXPECT_TRUE(r->ingest.coap_enabled);
  ASSERT_EQ(r->ingest.mqtt.size(), 1u);
  EXPECT_EQ(r->ingest.mqtt[0].filter, "sensors/#");
  EXPECT_EQ(r->rules.default_tasks.size(), 2u);
}

TEST(ConfigTest, FullDocumentParses) {
  auto r = parse_config(R"({
    "gateway": {"id": "gw-7", "workers": 3, "queue_capacity": 100},
    "broker": {"uris": ["tcp://10.0.0.1:1883", "tcp://10.0.0.2:1883"], "username": "gw", "password": ""},
    "ingest": {"mqtt": [{"filter": "a/#", "qos": 0, "format": "msgpack", "pattern": "a/{device}"}],
               "coap": {"enabled": false, "port": 0}},
    "rules": {"ordered": [{"name": "r1", "topics": ["a/+"], "source": "mqtt", "device": "x*",
                           "when": ["t > 5", "ok == true"],
                           "tasks": [{"task": "detect", "priority": "critical"}]}],
              "default": []},
    "detectors": [{"name": "d", "type": "anomaly", "field": "t", "z": 2.5, "window": 10, "warmup": 5}],
    "alerts": {"qos": 0, "retain": true},
    "metrics": {"interval_ms": 0}
  })");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->gateway.id, "gw-7");
  EXPECT_EQ(r->broker.client_id, "foggate-gw-7");
  EXPECT_EQ(r->broker.uris.size(), 2u);
  EXPECT_EQ(r->ingest.mqtt[0].format, PayloadFormat::kMsgpack);
  EXPECT_FALSE(r->ingest.coap_enabled);
  ASSERT_EQ(r->rules.ordered.size(), 1u);
  EXPECT_EQ(r->rules.ordered[0].tasks[0].priority, Priority::kCritical);
  EXPECT_EQ(r->rules.ordered[0].tasks[0].deadline_ms, 200) << "critical default deadline";
  EXPECT_EQ(r->rules.ordered[0].when.size(), 2u);
  EXPECT_TRUE(r->rules.default_tasks.empty());
  EXPECT_EQ(r->detectors[0].type, routing::DetectorType::kAnomaly);
  EXPECT_EQ(r->detectors[0].z, 2.5);
  EXPECT_TRUE(r->alerts.retain);
  EXPECT_EQ(r->metrics.interval_ms, 0);
}

TEST(ConfigTest, AlarmsSectionAndStaleAfterHaveDefaultsAndRanges) {
  auto r = parse_config("{}");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->alarms.enabled);
  EXPECT_EQ(r->alarms.flood_max_events, 10u);
  EXPECT_EQ(r->alarms.flood_window_ms, 60'000);
  EXPECT_EQ(r->alarms.max_shelve_ms, 86'400'000);
  r = parse_config(R"({"alarms":{"enabled":false,"flood_max_events":0,"flood_window_ms":500,"max_shelve_ms":60000},
    "detectors":[{"name":"hot","type":"threshold","field":"t","max":5,"stale_after_ms":2000}]})");
  ASSERT_TRUE(r) << format_issues(r.error());
  EXPECT_FALSE(r->alarms.enabled);
  EXPECT_EQ(r->alarms.flood_max_events, 0u);
  EXPECT_EQ(r->detectors[0].stale_after_ms, 2000);
  EXPECT_TRUE(has_issue(issues_of(R"({"alarms":{"flood_window_ms":10}})"), "alarms.flood_window_ms", "between"));
  EXPECT_TRUE(has_issue(issues_of(R"({"alarms":{"shelve":1}})"), "alarms.shelve", "unknown key"));
  EXPECT_TRUE(has_issue(issues_of(R"({"detectors":[{"name":"hot","type":"threshold","field":"t","max":5,
    "stale_after_ms":50}]})"), "detectors[0].stale_after_ms", "at least 100"));
}

TEST(ConfigTest, CoapReceiveBufferDefaultsTo4MiBWithinARange) {
  auto r = parse_config("{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ingest.coap.receive_buffer_bytes, 4u << 20);
  r = parse_config(R"({"ingest": {"coap": {"receive_buffer_bytes": 16777216}}})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->ingest.coap.receive_buffer_bytes, 16u << 20);

  const std::string_view path = "ingest.coap.receive_buffer_bytes";
  for (const char* bad : {"65535", "268435457", "0", "-1"}) {
    auto issues = issues_of(std::string(R"({"ingest": {"coap": {"receive_buffer_bytes": )") + bad + "}}}");
    EXPECT_TRUE(has_issue(issues, path, "must be between 65536 and 268435456")) << bad << ": " << format_issues(issues);
  }
  EXPECT_TRUE(has_issue(issues_of(R"({"ingest": {"coap": {"receive_buffer_bytes": "4MiB"}}})"), path, "integer"));
}

TEST(ConfigTest, ReadCoalesceDefaultsTo250MicrosecondsWithinARange) {
  auto r = parse_config("{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->broker.read_coalesce_us, 250);
  r = parse_config(R"({"broker": {"read_coalesce_us": 0}})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->broker.read_coalesce_us, 0);
  for (const char* bad : {"-1", "5001"}) {
    auto issues = issues_of(std::string(R"({"broker": {"read_coalesce_us": )") + bad + "}}");
    EXPECT_TRUE(has_issue(issues, "broker.read_coalesce_us", "must be between 0 and 5000")) << bad;
  }
}

TEST(ConfigTest, BackgroundNiceDefaultsToTenAndStaysANiceStep) {
  auto r = parse_config(R"({})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->gateway.background_nice, 10);
  r = parse_config(R"({"gateway": {"background_nice": 0}})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->gateway.background_nice, 0);
  EXPECT_TRUE(has_issue(issues_of(R"({"gateway": {"background_nice": 20}})"), "gateway.background_nice", "between"));
  EXPECT_TRUE(has_issue(issues_of(R"({"gateway": {"background_nice": -1}})"), "gateway.background_nice", "between"));
}

TEST(ConfigTest, GatewayIdAllIsReservedForTheFleet) {
  auto issues = issues_of(R"({"gateway": {"id": "all"}})");
  EXPECT_TRUE(has_issue(issues, "gateway.id", "reserved"));
  EXPECT_TRUE(issues_of(R"({"gateway": {"id": "all-1"}})").empty());
}

TEST(ConfigTest, EveryErrorHasItsPath) {
  auto issues = issues_of(R"({
    "gateway": {"id": "a/b", "workers": 1.5, "extra": 1},
    "broker": {"uris": "tcp://x:1", "keepalive_s": 1},
    "ingest": {"mqtt": [{"filter": "a/#/b"}, {"qos": 2}], "coap": {"port": 70000}},
    "rules": {"ordered": [{"name": "r", "source": "zigbee", "when": [5, "t ~ 1"], "tasks": []}]},
    "detectors": [{"name": "d", "type": "threshold", "field": "t", "min": 5, "max": 1},
                  {"name": "d", "type": "magic", "field": "t"}],
    "alerts": {"qos": "1"}
  })");
  EXPECT_TRUE(has_issue(issues, "gateway.id"));
  EXPECT_TRUE(has_issue(issues, "gateway.workers", "integer"));
  EXPECT_TRUE(has_issue(issues, "gateway.extra", "unknown key"));
  EXPECT_TRUE(has_issue(issues, "broker.uris", "array"));
  EXPECT_TRUE(has_issue(issues, "broker.keepalive_s", "between"));
  EXPECT_TRUE(has_issue(issues, "ingest.mqtt[0].filter"));
  EXPECT_TRUE(has_issue(issues, "ingest.mqtt[1].filter", "missing"));
  EXPECT_TRUE(has_issue(issues, "ingest.mqtt[1].qos"));
  EXPECT_TRUE(has_issue(issues, "ingest.coap.port"));
  EXPECT_TRUE(has_issue(issues, "rules.ordered[0].source"));
  EXPECT_TRUE(has_issue(issues, "rules.ordered[0].when[0]"));
  EXPECT_TRUE(has_issue(issues, "rules.ordered[0].when[1]", "operator"));
  EXPECT_TRUE(has_issue(issues, "detectors[0].min", "greater"));
  EXPECT_TRUE(has_issue(issues, "detectors[1].type"));
  EXPECT_TRUE(has_issue(issues, "detectors[1].name", "duplicate"));
  EXPECT_TRUE(has_issue(issues, "alerts.qos", "integer"));
}

TEST(ConfigTest, ThresholdNeedsABoundAndAClearableHysteresis) {
  auto issues = issues_of(R"({"detectors": [
    {"name": "a", "type": "threshold", "field": "t"},
    {"name": "b", "type": "threshold", "field": "t", "min": 0, "max": 10, "hysteresis": 6}]})");
  EXPECT_TRUE(has_issue(issues, "detectors[0]", "min, max"));
  EXPECT_TRUE(has_issue(issues, "detectors[1].hysteresis", "never clear"));
}

TEST(ConfigTest, SyntaxErrorIsOneIssueForTheDocument) {
  auto issues = issues_of("{\"gateway\": [}");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "");
  EXPECT_NE(issues[0].message.find("offset"), std::string::npos) << issues[0].message;
}

TEST(ConfigTest, SectionsReplaceIndependently) {
  RulesSection rules;
  ConfigIssues issues;
  auto doc = protocols::parse_json(R"({"ordered": [{"name": "x", "tasks": [{"task": "forward"}]}]})");
  ASSERT_TRUE(doc.has_value());
  parse_rules_section(*doc, "rules", rules, issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(rules.ordered.size(), 1u);
  EXPECT_EQ(rules.default_tasks.size(), 2u) << "default kept when the section leaves it out";
}

TEST(ConfigTest, LoadFileThrowsWithIssues) {
  try {
    (void)load_config_file("/nonexistent/foggate.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos);
  }
}

}  // namespace
}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

TEST(ConfigAuthTest, TlsAndPasswordSourcesParse) {
  auto r = parse_config(R"({"broker":{"uris":["ssl://site:8883"],"username":"gw","password_env":"SITE_PW",
                              "tls":{"ca_file":"/etc/foggate/tls/ca.crt","cert_file":"/c.crt","key_file":"/c.key"}},
                            "uplink":{"uris":["mqtts://cloud:8883"],"password_file":"/run/credentials/pw",
                              "tls":{"min_version":"1.2","verify_hostname":false}}})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->broker.password_env, "SITE_PW");
  EXPECT_EQ(r->broker.tls.ca_file, "/etc/foggate/tls/ca.crt");
  EXPECT_EQ(r->broker.tls.key_file, "/c.key");
  EXPECT_TRUE(r->broker.tls.verify_hostname);
  EXPECT_EQ(r->uplink.password_file, "/run/credentials/pw");
  EXPECT_FALSE(r->uplink.tls.verify_hostname);
}

TEST(ConfigAuthTest, BadCombinationsAreRefusedWithTheirPath) {
  auto issues = issues_of(R"({"broker":{"uris":["tcp://site:1883"],"password":"x","password_file":"/pw",
                                        "tls":{"cert_file":"/c.crt"}},
                              "uplink":{"uris":["ssl://cloud:8883"],"password_env":"9BAD",
                                        "tls":{"min_version":"1.3"}}})");
  EXPECT_TRUE(has_issue(issues, "broker", "only one of password"));
  EXPECT_TRUE(has_issue(issues, "broker.tls", "go together"));
  EXPECT_TRUE(has_issue(issues, "broker.tls", "ssl://"));
  EXPECT_TRUE(has_issue(issues, "uplink.password_env", "environment variable"));
  EXPECT_TRUE(has_issue(issues, "uplink.tls.min_version", "1.3"));
}

}  // namespace
}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

TEST(ConfigOverloadTest, PoliciesAndMarksParse) {
  auto r = parse_config(R"({"gateway":{"overload":{"cpu_percent":150,"rss_mb":64}},
    "rules":{"ordered":[{"name":"vib","tasks":[{"task":"detect","priority":"normal","on_overload":"offload"},
                                               {"task":"forward","priority":"low"}]}],
             "default":[{"task":"detect","priority":"low","on_overload":"shed"}]}})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_EQ(r->gateway.overload_cpu_percent, 150);
  EXPECT_EQ(r->gateway.overload_rss_mb, 64);
  EXPECT_EQ(r->rules.ordered[0].tasks[0].on_overload, routing::OverloadAction::kOffload);
  EXPECT_EQ(r->rules.ordered[0].tasks[1].on_overload, routing::OverloadAction::kKeep);
  EXPECT_EQ(r->rules.default_tasks[0].on_overload, routing::OverloadAction::kShed);
}

TEST(ConfigOverloadTest, CriticalAndForwardTasksCannotBeShedOrOffloaded) {
  auto issues = issues_of(R"({"rules":{"ordered":[{"name":"fire","tasks":[
      {"task":"detect","priority":"critical","on_overload":"shed"},
      {"task":"forward","priority":"low","on_overload":"offload"},
      {"task":"detect","on_overload":"later"}]}]}})");
  EXPECT_TRUE(has_issue(issues, "rules.ordered[0].tasks[0].on_overload", "never"));
  EXPECT_TRUE(has_issue(issues, "rules.ordered[0].tasks[1].on_overload", "detect"));
  EXPECT_TRUE(has_issue(issues, "rules.ordered[0].tasks[2].on_overload", "keep, shed or offload"));
}

}  // namespace
}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

TEST(ConfigTest, LogLevelsPerModule) {
  auto r = parse_config(R"({"gateway":{"log_level":"warn","log_levels":{"coap":"debug","mqtt":"error"}}})");
  ASSERT_TRUE(r) << format_issues(r.error());
  EXPECT_EQ(r->gateway.log_level, "warn");
  EXPECT_EQ(r->gateway.log_levels.size(), 2u);
  EXPECT_EQ(r->gateway.log_levels.at("coap"), "debug");
  EXPECT_EQ(r->gateway.log_levels.at("mqtt"), "error");
}

TEST(ConfigTest, LogLevelsRejectsUnknownLevelsAndNonObjects) {
  auto r = parse_config(R"({"gateway":{"log_levels":{"coap":"loud","mqtt":3}}})");
  ASSERT_FALSE(r);
  EXPECT_NE(format_issues(r.error()).find("gateway.log_levels.coap: use debug"), std::string::npos) << format_issues(r.error());
  EXPECT_NE(format_issues(r.error()).find("gateway.log_levels.mqtt: use debug"), std::string::npos);
  r = parse_config(R"({"gateway":{"log_levels":["coap"]}})");
  ASSERT_FALSE(r);
  EXPECT_NE(format_issues(r.error()).find("gateway.log_levels: expected an object"), std::string::npos);
}

TEST(ConfigMetricsTest, PrometheusListenerDefaultsAndParses) {
  auto d = parse_config("{}");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->metrics.prometheus.enabled);
  EXPECT_EQ(d->metrics.prometheus.bind, "127.0.0.1");
  EXPECT_EQ(d->metrics.prometheus.port, 9464);
  auto r = parse_config(R"({"metrics": {"interval_ms": 5000,
    "prometheus": {"enabled": true, "bind": "::1", "port": 19464}}})");
  ASSERT_TRUE(r.has_value()) << format_issues(r.error());
  EXPECT_TRUE(r->metrics.prometheus.enabled);
  EXPECT_EQ(r->metrics.prometheus.bind, "::1");
  EXPECT_EQ(r->metrics.prometheus.port, 19464);
}

TEST(ConfigMetricsTest, PrometheusListenerErrorsHaveTheirPath) {
  auto issues = issues_of(R"({"metrics": {"prometheus": {"enabled": "yes", "bind": "localhost", "port": 0, "tls": 1}}})");
  EXPECT_TRUE(has_issue(issues, "metrics.prometheus.enabled", "true or false"));
  EXPECT_TRUE(has_issue(issues, "metrics.prometheus.bind", "address"));
  EXPECT_TRUE(has_issue(issues, "metrics.prometheus.port", "between 1 and 65535"));
  EXPECT_TRUE(has_issue(issues, "metrics.prometheus.tls", "unknown key"));
  EXPECT_TRUE(has_issue(issues_of(R"({"metrics": {"prometheus": {"port": 65536}}})"), "metrics.prometheus.port"));
  EXPECT_TRUE(has_issue(issues_of(R"({"metrics": {"prometheus": {"bind": ""}}})"), "metrics.prometheus.bind"));
  EXPECT_TRUE(has_issue(issues_of(R"({"metrics": {"prometheus": true}})"), "metrics.prometheus", "object"));
}

TEST(ConfigMetricsTest, RemoteMetricsSectionCannotTouchTheListener) {
  auto c = parse_config(R"({"metrics": {"prometheus": {"enabled": true, "port": 19464}}})");
  ASSERT_TRUE(c.has_value());
  ConfigIssues issues;
  auto open = protocols::parse_json(R"({"interval_ms": 1000, "prometheus": {"enabled": true, "bind": "0.0.0.0"}})");
  ASSERT_TRUE(open.has_value());
  replace_section(*c, "metrics", *open, issues);
  EXPECT_TRUE(has_issue(issues, "metrics.prometheus", "start-only"));
  EXPECT_EQ(c->metrics.interval_ms, 10'000) << "a rejected section changes nothing";
  issues.clear();
  auto plain = protocols::parse_json(R"({"interval_ms": 1000})");
  ASSERT_TRUE(plain.has_value());
  replace_section(*c, "metrics", *plain, issues);
  EXPECT_TRUE(issues.empty()) << format_issues(issues);
  EXPECT_EQ(c->metrics.interval_ms, 1000);
  EXPECT_TRUE(c->metrics.prometheus.enabled) << "the file's listener settings stay";
  EXPECT_EQ(c->metrics.prometheus.port, 19464);
}

}  // namespace
}  // namespace foggate::gateway

namespace foggate::gateway {
namespace {

TEST(ConfigTest, UplinkDegradeKeysHaveDefaultsAndLimits) {
  auto d = parse_config("{}");
  ASSERT_TRUE(d);
  const auto& lim = d->uplink.degrade.limits;
  EXPECT_TRUE(lim[index_of(Priority::kLow)].enabled);
  EXPECT_EQ(lim[index_of(Priority::kLow)].horizon_s, 3600);
  EXPECT_EQ(lim[index_of(Priority::kNormal)].horizon_s, 21600);
  EXPECT_DOUBLE_EQ(lim[index_of(Priority::kNormal)].fill_mark, 0.75);
  EXPECT_FALSE(lim[index_of(Priority::kCritical)].enabled);
  EXPECT_FALSE(lim[index_of(Priority::kHigh)].enabled);
  EXPECT_DOUBLE_EQ(d->uplink.degrade.resume_ratio, 0.5);

  auto r = parse_config(R"({"uplink":{"degrade":{"resume_ratio":0.3,
      "low":{"enabled":false,"horizon_s":60,"fill_mark":0.2,"window_s":30}}}})");
  ASSERT_TRUE(r) << format_issues(r.error());
  EXPECT_FALSE(r->uplink.degrade.limits[index_of(Priority::kLow)].enabled);
  EXPECT_EQ(r->uplink.degrade.limits[index_of(Priority::kLow)].window_s, 30);
  EXPECT_DOUBLE_EQ(r->uplink.degrade.resume_ratio, 0.3);

  // critical and high cannot be configured to degrade; marks are checked.
  EXPECT_TRUE(has_issue(issues_of(R"({"uplink":{"degrade":{"critical":{"enabled":true}}}})"),
                        "uplink.degrade.critical", "unknown key"));
  EXPECT_TRUE(has_issue(issues_of(R"({"uplink":{"degrade":{"high":{}}}})"), "uplink.degrade.high", "unknown key"));
  EXPECT_TRUE(has_issue(issues_of(R"({"uplink":{"degrade":{"low":{"fill_mark":1.5}}}})"),
                        "uplink.degrade.low.fill_mark"));
  EXPECT_TRUE(has_issue(issues_of(R"({"uplink":{"degrade":{"resume_ratio":1}}})"), "uplink.degrade.resume_ratio"));
}

}  // namespace
}  // namespace foggate::gateway
