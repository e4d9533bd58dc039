// The section parsers: each fills one section of Config from its JSON
// object and appends issues under its path (config.h has the contract).
#include "foggate/gateway/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>

#include "foggate/base/log.h"
#include "foggate/message/topic.h"
#include "config/object_reader.h"

namespace foggate::gateway {
namespace {

using protocols::JsonValue;

constexpr int64_t kMaxDeadlineMs = 24LL * 3600 * 1000;

int64_t default_deadline_ms(Priority p) {
  switch (p) {
    case Priority::kCritical: return 200;
    case Priority::kHigh: return 1'000;
    case Priority::kNormal: return 5'000;
    case Priority::kLow: return 60'000;
  }
  return 5'000;
}

// Gateway ids and device ids appear as MQTT topic levels.
bool valid_topic_level(std::string_view s) {
  return !s.empty() && s.size() <= 128 && s.find_first_of("/+#") == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

bool valid_broker_uri(std::string_view u) {
  for (std::string_view scheme : {"tcp://", "mqtt://", "ssl://", "mqtts://"})
    if (u.starts_with(scheme) && u.size() > scheme.size()) return true;
  return false;
}

bool valid_ip_literal(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool valid_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

// The credential and TLS keys shared by the broker and uplink sections.
template <typename Section>
void parse_auth(ObjectReader& r, Section& out, ConfigIssues& issues) {
  r.string("username", out.username);
  r.string("password", out.password, false, false);
  r.string("password_file", out.password_file);
  r.string("password_env", out.password_env);
  if (!out.password_env.empty() && !valid_env_name(out.password_env))
    r.fail(r.path_of("password_env"), "not an environment variable name");
  if (int(!out.password.empty()) + int(!out.password_file.empty()) + int(!out.password_env.empty()) > 1)
    r.fail(r.path(), "use only one of password, password_file and password_env");
  if (const auto* t = r.get("tls")) {
    ObjectReader tr(*t, r.path_of("tls"), issues);
    tr.string("ca_file", out.tls.ca_file);
    tr.string("cert_file", out.tls.cert_file);
    tr.string("key_file", out.tls.key_file);
    tr.boolean("verify_hostname", out.tls.verify_hostname);
    std::string min_version = "1.2";
    tr.string("min_version", min_version);
    // Paho C 1.3.12 (Debian bookworm) can pin TLS 1.2 exactly but cannot
    // set a floor of 1.3; OpenSSL 3 already refuses anything below 1.2.
    if (min_version == "1.3")
      tr.fail(tr.path_of("min_version"), "1.3 cannot be enforced by this Paho build; require TLS 1.3 on the broker instead");
    else if (min_version != "1.2")
      tr.fail(tr.path_of("min_version"), "use \"1.2\"");
    if (out.tls.cert_file.empty() != out.tls.key_file.empty())
      tr.fail(tr.path(), "cert_file and key_file go together (mutual TLS needs both)");
    const bool any_tls = std::any_of(out.uris.begin(), out.uris.end(), [](const auto& u) { return protocols::is_tls_uri(u); });
    if (!out.uris.empty() && !any_tls)
      tr.fail(tr.path(), "applies to ssl:// or mqtts:// URIs only, and none is configured");
  }
}

void parse_priority(ObjectReader& r, std::string_view key, Priority& out) {
  std::string s;
  r.string(key, s);
  if (s.empty()) return;
  if (auto p = foggate::parse_priority(s)) out = *p;
  else r.fail(r.path_of(key), "unknown priority \"" + s + "\"; use critical, high, normal or low");
}

void parse_task(const JsonValue& v, const std::string& path, std::vector<routing::TaskSpec>& out,
                ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (!r.ok()) return;
  routing::TaskSpec t;
  std::string kind;
  r.string("task", kind, true);
  if (kind == "detect") t.kind = routing::TaskKind::kDetect;
  else if (kind == "forward") t.kind = routing::TaskKind::kForward;
  else if (kind == "drop") t.kind = routing::TaskKind::kDrop;
  else if (!kind.empty()) r.fail(r.path_of("task"), "unknown task \"" + kind + "\"; use detect, forward or drop");
  parse_priority(r, "priority", t.priority);
  t.deadline_ms = default_deadline_ms(t.priority);
  r.integer("deadline_ms", t.deadline_ms, 1, kMaxDeadlineMs);
  std::string on_overload;
  r.string("on_overload", on_overload);
  if (on_overload == "shed") t.on_overload = routing::OverloadAction::kShed;
  else if (on_overload == "offload") t.on_overload = routing::OverloadAction::kOffload;
  else if (!on_overload.empty() && on_overload != "keep")
    r.fail(r.path_of("on_overload"), "unknown policy \"" + on_overload + "\"; use keep, shed or offload");
  if (t.on_overload != routing::OverloadAction::kKeep) {
    if (t.priority == Priority::kCritical)
      r.fail(r.path_of("on_overload"), "critical tasks are never shed or offloaded; use keep");
    else if (t.kind != routing::TaskKind::kDetect)
      r.fail(r.path_of("on_overload"), "applies to detect tasks only");
  }
  out.push_back(t);
}

void parse_rule(const JsonValue& v, const std::string& path, std::vector<routing::Rule>& out,
                ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (!r.ok()) return;
  routing::Rule rule;
  r.string("name", rule.name, true);
  r.array("topics", [&](const JsonValue& t, const std::string& p) {
    if (!t.is_string() || !valid_topic_filter(t.as_string())) {
      issues.push_back({p, "expected an MQTT topic filter"});
      return;
    }
    rule.topics.push_back(t.as_string());
  });
  std::string source;
  r.string("source", source);
  if (source == "mqtt") rule.source = Source::kMqtt;
  else if (source == "coap") rule.source = Source::kCoap;
  else if (!source.empty()) r.fail(r.path_of("source"), "unknown source \"" + source + "\"; use mqtt or coap");
  r.string("device", rule.device);
  r.array("when", [&](const JsonValue& w, const std::string& p) {
    if (!w.is_string()) {
      issues.push_back({p, "expected a predicate string such as \"t > 50\""});
      return;
    }
    auto pred = routing::parse_predicate(w.as_string());
    if (!pred) issues.push_back({p, pred.error().detail});
    else rule.when.push_back(std::move(pred.value()));
  });
  r.array("tasks", [&](const JsonValue& t, const std::string& p) { parse_task(t, p, rule.tasks, issues); }, true);
  out.push_back(std::move(rule));
}

void parse_detector(const JsonValue& v, const std::string& path, std::vector<routing::DetectorSpec>& out,
                    ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (!r.ok()) return;
  routing::DetectorSpec d;
  r.string("name", d.name, true);
  std::string type;
  r.string("type", type, true);
  if (type == "threshold") d.type = routing::DetectorType::kThreshold;
  else if (type == "anomaly") d.type = routing::DetectorType::kAnomaly;
  else if (!type.empty()) r.fail(r.path_of("type"), "unknown detector type \"" + type + "\"; use threshold or anomaly");
  r.string("field", d.field, true);
  r.string("device", d.device);
  r.string("severity", d.severity);
  if (d.severity != "critical" && d.severity != "warning" && d.severity != "info")
    r.fail(r.path_of("severity"), "unknown severity \"" + d.severity + "\"; use critical, warning or info");
  r.integer("cooldown_ms", d.cooldown_ms, 0, kMaxDeadlineMs);
  r.integer("stale_after_ms", d.stale_after_ms, 0, 7 * kMaxDeadlineMs);
  if (d.stale_after_ms != 0 && d.stale_after_ms < 100)
    r.fail(r.path_of("stale_after_ms"), "must be 0 (off) or at least 100 (the alarm thread checks every 100 ms)");
  if (d.type == routing::DetectorType::kThreshold) {
    r.optional_number("min", d.min);
    r.optional_number("max", d.max);
    r.number("hysteresis", d.hysteresis);
    if (!d.min && !d.max && !type.empty()) r.fail(path, "a threshold detector needs min, max or both");
    if (d.min && d.max && *d.min > *d.max) r.fail(r.path_of("min"), "min is greater than max");
    if (d.hysteresis < 0) r.fail(r.path_of("hysteresis"), "must not be negative");
    if (d.min && d.max && d.hysteresis * 2 > *d.max - *d.min)
      r.fail(r.path_of("hysteresis"), "wider than half the [min, max] band: the alert could never clear");
  } else {
    r.number("z", d.z);
    if (d.z <= 0) r.fail(r.path_of("z"), "must be positive");
    r.integer("window", d.window, 2, 1'000'000);
    r.integer("warmup", d.warmup, 2, 1'000'000);
  }
  for (const auto& other : out)
    if (!d.name.empty() && other.name == d.name) r.fail(r.path_of("name"), "duplicate detector name \"" + d.name + "\"");
  out.push_back(std::move(d));
}

}  // namespace

void parse_gateway_section(const JsonValue& v, const std::string& path, GatewaySection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  r.string("id", out.id);
  if (!out.id.empty() && !valid_topic_level(out.id))
    r.fail(r.path_of("id"), "must be 1-128 characters without / + #");
  // foggate/all/config/... is the fleet's layer: a gateway called "all"
  // would take every fleet section as its own.
  else if (out.id == "all")
    r.fail(r.path_of("id"), "\"all\" is reserved for fleet configuration (foggate/all/config/...)");
  r.string("data_dir", out.data_dir);
  r.integer("workers", out.workers, 1, 64);
  r.integer("queue_capacity", out.queue_capacity, 16, 10'000'000);
  r.boolean("remote_config", out.remote_config);
  r.integer("max_tracked_devices", out.max_tracked_devices, 16, 100'000'000);
  r.string("config_key_file", out.config_key_file);
  r.integer("cert_expiry_warn_days", out.cert_expiry_warn_days, 0, 3650);
  r.integer("background_nice", out.background_nice, 0, 19);
  if (const auto* o = r.get("overload")) {
    ObjectReader orr(*o, r.path_of("overload"), issues);
    orr.integer("cpu_percent", out.overload_cpu_percent, 0, 100 * 1024);
    orr.integer("rss_mb", out.overload_rss_mb, 0, int64_t{1} << 30);
  }
  r.string("log_level", out.log_level);
  log::Level level{};
  if (!log::parse_level(out.log_level, level)) r.fail(r.path_of("log_level"), "use debug, info, warn or error");
  if (const auto* m = r.get("log_levels")) {
    const std::string lpath = r.path_of("log_levels");
    if (!m->is_object()) {
      r.fail(lpath, "expected an object of module names to levels, e.g. {\"coap\":\"debug\"}");
    } else {
      out.log_levels.clear();
      for (const auto& [module, level_v] : m->members()) {
        const std::string p = join_path(lpath, module);
        if (module.empty() || module.size() > 64) r.fail(p, "a module name is 1-64 characters");
        else if (!level_v.is_string() || !log::parse_level(level_v.as_string(), level)) r.fail(p, "use debug, info, warn or error");
        else out.log_levels[module] = level_v.as_string();
      }
    }
  }
}

void parse_broker_section(const JsonValue& v, const std::string& path, BrokerSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (r.get("uris") != nullptr) {
    std::vector<std::string> uris;
    r.array("uris", [&](const JsonValue& u, const std::string& p) {
      if (!u.is_string() || !valid_broker_uri(u.as_string())) issues.push_back({p, "expected a broker URI such as tcp://127.0.0.1:1883"});
      else uris.push_back(u.as_string());
    });
    if (uris.empty() && r.get("uris")->is_array()) r.fail(r.path_of("uris"), "needs at least one URI");
    if (!uris.empty()) out.uris = std::move(uris);
  }
  r.string("client_id", out.client_id);
  if (out.client_id.size() > 128) r.fail(r.path_of("client_id"), "longer than 128 characters");
  r.integer("keepalive_s", out.keepalive_s, 5, 3600);
  std::string version;
  r.string("mqtt_version", version);
  if (version == "5") out.mqtt_version = protocols::MqttVersion::kV5;
  else if (version == "3.1.1") out.mqtt_version = protocols::MqttVersion::kV311;
  else if (!version.empty()) r.fail(r.path_of("mqtt_version"), "must be \"5\" or \"3.1.1\"");
  r.integer("receive_maximum", out.receive_maximum, 1, 65535);
  r.integer("max_packet_bytes", out.max_packet_bytes, 1024, 268435455);
  r.integer("read_coalesce_us", out.read_coalesce_us, 0, 5000);
  parse_auth(r, out, issues);
}

void parse_ingest_section(const JsonValue& v, const std::string& path, IngestSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (r.get("mqtt") != nullptr) {
    out.mqtt.clear();
    r.array("mqtt", [&](const JsonValue& s, const std::string& p) {
      ObjectReader sr(s, p, issues);
      if (!sr.ok()) return;
      MqttIngest in;
      sr.string("filter", in.filter, true);
      if (!in.filter.empty() && !valid_topic_filter(in.filter)) sr.fail(sr.path_of("filter"), "not a valid MQTT topic filter");
      sr.integer("qos", in.qos, 0, 1);
      std::string fmt;
      sr.string("format", fmt);
      if (!fmt.empty()) {
        if (auto f = parse_payload_format(fmt)) in.format = *f;
        else sr.fail(sr.path_of("format"), "unknown format \"" + fmt + "\"; use auto, json, msgpack or number");
      }
      sr.string("pattern", in.pattern);
      std::string lane;
      sr.string("lane", lane);
      if (lane == "priority") in.priority_lane = true;
      else if (!lane.empty() && lane != "normal") sr.fail(sr.path_of("lane"), "unknown lane \"" + lane + "\"; use normal or priority");
      out.mqtt.push_back(std::move(in));
    });
  }
  if (const auto* c = r.get("coap")) {
    ObjectReader cr(*c, r.path_of("coap"), issues);
    cr.boolean("enabled", out.coap_enabled);
    cr.string("bind", out.coap.bind);
    cr.integer("port", out.coap.port, 0, 65535);
    cr.integer("max_body_bytes", out.coap.max_body_bytes, 16, 16 * 1024 * 1024);
    cr.integer("overload_max_age_s", out.coap.overload_max_age_s, 0, 3600);
    // Kernel-accounted bytes, ~830 or more per queued request: under 64 KiB
    // a burst of 80 overflows it; over 256 MiB, one flood could pin that
    // much kernel memory per socket.
    cr.integer("receive_buffer_bytes", out.coap.receive_buffer_bytes, 64 * 1024, 256 * 1024 * 1024);
  }
  if (const auto* c = r.get("coaps")) {
    ObjectReader cr(*c, r.path_of("coaps"), issues);
    cr.boolean("enabled", out.coap.dtls.enabled);
    cr.string("bind", out.coap.dtls.bind);
    cr.integer("port", out.coap.dtls.port, 0, 65535);
    cr.string("psk_file", out.coaps_psk_file);
    // Keys live in a file, never in this section: ingest can arrive over
    // retained MQTT topics, readable by whoever may subscribe to them.
    if (out.coap.dtls.enabled && out.coaps_psk_file.empty())
      cr.fail(cr.path_of("psk_file"), "required when coaps is enabled");
  }
  out.coap.plain = out.coap_enabled;
  if (out.coap_enabled && out.coap.dtls.enabled && out.coap.port != 0 && out.coap.port == out.coap.dtls.port &&
      out.coap.bind == out.coap.dtls.bind)
    r.fail(r.path_of("coaps.port"), "the same as coap.port");
  if (const auto* p = r.get("payload")) {
    ObjectReader pr(*p, r.path_of("payload"), issues);
    pr.string("timestamp_field", out.payload.timestamp_field);
    pr.integer("max_bytes", out.payload.max_bytes, 16, 16 * 1024 * 1024);
    pr.integer("max_fields", out.payload.max_fields, 1, 4096);
    pr.integer("max_depth", out.payload.max_depth, 1, 64);
    pr.integer("max_string", out.payload.max_string, 1, 1 << 20);
    pr.integer("max_topic_bytes", out.payload.max_topic_bytes, 16, 65535);
  }
}

void parse_rules_section(const JsonValue& v, const std::string& path, RulesSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (r.get("ordered") != nullptr) {
    out.ordered.clear();
    r.array("ordered", [&](const JsonValue& rule, const std::string& p) { parse_rule(rule, p, out.ordered, issues); });
  }
  if (r.get("default") != nullptr) {
    out.default_tasks.clear();
    r.array("default", [&](const JsonValue& t, const std::string& p) { parse_task(t, p, out.default_tasks, issues); });
  }
}

void parse_detectors_section(const JsonValue& v, const std::string& path, std::vector<routing::DetectorSpec>& out,
                             ConfigIssues& issues) {
  if (!v.is_array()) {
    issues.push_back({path, "expected an array of detectors"});
    return;
  }
  out.clear();
  for (std::size_t i = 0; i < v.items().size(); ++i) parse_detector(v.items()[i], index_path(path, i), out, issues);
}

void parse_alerts_section(const JsonValue& v, const std::string& path, AlertsSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  r.integer("qos", out.qos, 0, 1);
  r.boolean("retain", out.retain);
}

void parse_alarms_section(const JsonValue& v, const std::string& path, AlarmsSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  r.boolean("enabled", out.enabled);
  r.integer("flood_max_events", out.flood_max_events, 0, 1'000'000);
  r.integer("flood_window_ms", out.flood_window_ms, 100, kMaxDeadlineMs);
  r.integer("max_shelve_ms", out.max_shelve_ms, 1'000, 30 * kMaxDeadlineMs);
}

void parse_uplink_section(const JsonValue& v, const std::string& path, UplinkSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  if (r.get("uris") != nullptr) {
    out.uris.clear();
    r.array("uris", [&](const JsonValue& u, const std::string& p) {
      if (!u.is_string() || !valid_broker_uri(u.as_string())) issues.push_back({p, "expected a broker URI such as tcp://cloud.example:1883"});
      else out.uris.push_back(u.as_string());
    });
  }
  r.string("client_id", out.client_id);
  parse_auth(r, out, issues);
  r.string("topic_prefix", out.topic_prefix);
  if (!out.topic_prefix.empty() && out.topic_prefix.find_first_of("+#") != std::string::npos)
    r.fail(r.path_of("topic_prefix"), "must not contain wildcards");
  r.integer("keepalive_s", out.keepalive_s, 5, 3600);
  r.integer("max_inflight", out.max_inflight, 1, 1000);
  r.integer("commit_interval_ms", out.commit_interval_ms, 10, 60'000);
  r.integer("inbox_capacity", out.inbox_capacity, 16, 10'000'000);
  r.integer("zlib_level", out.zlib_level, 1, 9);
  if (const auto* b = r.get("batch")) {
    ObjectReader br(*b, r.path_of("batch"), issues);
    for (Priority p : {Priority::kHigh, Priority::kNormal, Priority::kLow}) {
      if (const auto* pb = br.get(to_string(p))) {
        ObjectReader pr(*pb, br.path_of(to_string(p)), issues);
        pr.integer("max_messages", out.batch[index_of(p)].max_messages, 1, 1'000'000);
        pr.integer("max_bytes", out.batch[index_of(p)].max_raw_bytes, 64, 64 << 20);
      }
    }
  }
  if (const auto* sp = r.get("spool")) {
    ObjectReader sr(*sp, r.path_of("spool"), issues);
    sr.integer("max_bytes", out.spool_max_bytes, 1 << 16, int64_t{1} << 40);
    if (const auto* ttl = sr.get("ttl_s")) {
      ObjectReader tr(*ttl, sr.path_of("ttl_s"), issues);
      for (Priority p : kAllPriorities) {
        int64_t s = out.ttl_ms[index_of(p)] / 1000;
        tr.integer(to_string(p), s, 0, 365LL * 86'400);
        out.ttl_ms[index_of(p)] = s * 1000;
      }
    }
  }
  if (const auto* bw = r.get("bandwidth")) {
    ObjectReader br(*bw, r.path_of("bandwidth"), issues);
    br.integer("bytes_per_s", out.bytes_per_s, 0, int64_t{1} << 40);
    br.integer("burst_bytes", out.burst_bytes, 1024, int64_t{1} << 40);
    if (const auto* ms = br.get("min_share")) {
      ObjectReader mr(*ms, br.path_of("min_share"), issues);
      double total = 0;
      for (Priority p : {Priority::kHigh, Priority::kNormal, Priority::kLow}) {
        mr.number(to_string(p), out.min_share[index_of(p)]);
        if (out.min_share[index_of(p)] < 0 || out.min_share[index_of(p)] > 0.5)
          mr.fail(mr.path_of(to_string(p)), "must be between 0 and 0.5");
        total += out.min_share[index_of(p)];
      }
      if (total > 0.9) mr.fail(mr.path(), "the shares add up to more than 0.9");
    }
  }
  if (const auto* dg = r.get("degrade")) {
    ObjectReader dr(*dg, r.path_of("degrade"), issues);
    dr.number("resume_ratio", out.degrade.resume_ratio);
    if (out.degrade.resume_ratio <= 0 || out.degrade.resume_ratio >= 1)
      dr.fail(dr.path_of("resume_ratio"), "must be above 0 and below 1");
    for (Priority p : {Priority::kNormal, Priority::kLow}) {
      if (const auto* pd = dr.get(to_string(p))) {
        ObjectReader pr(*pd, dr.path_of(to_string(p)), issues);
        auto& lim = out.degrade.limits[index_of(p)];
        pr.boolean("enabled", lim.enabled);
        pr.integer("horizon_s", lim.horizon_s, 1, 365LL * 86'400);
        pr.number("fill_mark", lim.fill_mark);
        if (lim.fill_mark <= 0 || lim.fill_mark > 1) pr.fail(pr.path_of("fill_mark"), "must be above 0 and at most 1");
        pr.integer("window_s", lim.window_s, 1, 86'400);
      }
    }
  }
  if (out.bytes_per_s > 0) {
    for (Priority p : {Priority::kHigh, Priority::kNormal, Priority::kLow})
      if (out.batch[index_of(p)].max_raw_bytes > out.burst_bytes)
        r.fail(r.path_of("bandwidth.burst_bytes"),
               "smaller than batch." + std::string(to_string(p)) + ".max_bytes: such a batch could never be sent");
  }
}

void parse_metrics_section(const JsonValue& v, const std::string& path, MetricsSection& out, ConfigIssues& issues) {
  ObjectReader r(v, path, issues);
  r.integer("interval_ms", out.interval_ms, 0, kMaxDeadlineMs);
  if (out.interval_ms != 0 && out.interval_ms < 100) r.fail(r.path_of("interval_ms"), "use 0 (off) or at least 100");
  if (const auto* p = r.get("prometheus")) {
    ObjectReader pr(*p, r.path_of("prometheus"), issues);
    pr.boolean("enabled", out.prometheus.enabled);
    pr.string("bind", out.prometheus.bind);
    pr.integer("port", out.prometheus.port, 1, 65535);
    if (pr.get("bind") != nullptr && !valid_ip_literal(out.prometheus.bind))
      pr.fail(pr.path_of("bind"), "expected an IPv4 or IPv6 address, e.g. 127.0.0.1");
  }
}

}  // namespace foggate::gateway
