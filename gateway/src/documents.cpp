#include "documents.h"

#include "ops/cert_watch.h"
#include "foggate/protocols/json.h"

namespace foggate::gateway {

using protocols::append_json_number;
using protocols::append_json_string;

std::string topic_level(std::string_view s) {
  if (s.empty()) return "_";
  std::string out(s);
  for (char& c : out)
    if (c == '/' || c == '+' || c == '#' || c == '\0') c = '_';
  return out;
}

std::string alert_topic(std::string_view gateway_id, std::string_view severity, std::string_view device) {
  std::string t = "foggate/";
  t += gateway_id;
  t += "/alerts/";
  t += severity;
  t += '/';
  t += topic_level(device);
  return t;
}

std::string cert_expiry_alert_json(std::string_view gateway_id, const CertExpiryWarning& w, int64_t now_ms) {
  std::string out = "{\"gateway\":";
  append_json_string(out, gateway_id);
  out += ",\"kind\":\"certificate_expiry\",\"severity\":";
  append_json_string(out, w.expired ? "critical" : "warning");
  out += ",\"role\":";
  append_json_string(out, w.role);
  out += ",\"path\":";
  append_json_string(out, w.path);
  out += ",\"subject\":";
  append_json_string(out, w.subject);
  out += ",\"not_after_ms\":";
  append_json_number(out, static_cast<double>(w.not_after_ms));
  out += ",\"days_left\":";
  append_json_number(out, static_cast<double>(w.days_left));
  out += ",\"expired\":";
  out += w.expired ? "true" : "false";
  out += ",\"time_ms\":";
  append_json_number(out, static_cast<double>(now_ms));
  out += '}';
  return out;
}

std::string alert_json(std::string_view gateway_id, const routing::Alert& a) {
  std::string out;
  out.reserve(256);
  auto str = [&](const char* key, std::string_view v) {
    out += out.size() > 1 ? ",\"" : "\"";
    out += key;
    out += "\":";
    append_json_string(out, v);
  };
  auto num = [&](const char* key, double v) {
    out += ",\"";
    out += key;
    out += "\":";
    append_json_number(out, v);
  };
  out += '{';
  str("gateway", gateway_id);
  str("device", a.device);
  str("field", a.field);
  num("value", a.value);
  str("detector", a.detector);
  str("kind", routing::to_string(a.kind));
  str("severity", a.severity);
  str("topic", a.topic);
  num(a.kind == routing::AlertKind::kAnomaly ? "mean" : "limit", a.limit);
  if (a.kind == routing::AlertKind::kAnomaly) num("z", a.score);
  // Flood control's summary: how many events of this alarm were held back.
  if (a.kind == routing::AlertKind::kSuppressed) num("suppressed", static_cast<double>(a.suppressed));
  // 0: the reading carried no timestamp. Left out rather than written as
  // 0, which a consumer would read as 1970.
  if (a.sensor_ts_ms != 0) num("sensor_ts_ms", static_cast<double>(a.sensor_ts_ms));
  num("received_ms", static_cast<double>(a.received_ms));
  out += '}';
  return out;
}

std::string status_json(std::string_view gateway_id, std::string_view state, std::string_view reason,
                        int64_t since_ms) {
  std::string out = "{\"gateway\":";
  append_json_string(out, gateway_id);
  out += ",\"state\":";
  append_json_string(out, state);
  if (!reason.empty()) {
    out += ",\"reason\":";
    append_json_string(out, reason);
  }
  out += ",\"version\":\"" FOGGATE_VERSION "\"";
  if (since_ms > 0) {
    out += ",\"since_ms\":";
    append_json_number(out, static_cast<double>(since_ms));
  }
  out += '}';
  return out;
}

std::string metric_key(const MetricSample& s) {
  std::string key = s.name;
  if (s.labels.empty()) return key;
  key += '{';
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    if (i) key += ',';
    key += s.labels[i].first;
    key += '=';
    key += s.labels[i].second;
  }
  key += '}';
  return key;
}

std::string clamp_metric_text(std::string s) {
  if (s.size() <= kMetricTextMax) return s;
  std::size_t n = kMetricTextMax;
  // Back off to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

std::string metrics_json(std::string_view gateway_id, int64_t time_ms, const MetricSink& samples,
                         const MetricTexts& texts) {
  std::string out = "{\"gateway\":";
  append_json_string(out, gateway_id);
  out += ",\"time_ms\":";
  append_json_number(out, static_cast<double>(time_ms));
  out += ",\"metrics\":{";
  bool first = true;
  for (const auto& s : samples) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, metric_key(s));
    out += ':';
    append_json_number(out, s.value);
  }
  out += '}';
  if (!texts.empty()) {
    out += ",\"info\":{";
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, texts[i].first);
      out += ':';
      append_json_string(out, texts[i].second);
    }
    out += '}';
  }
  out += '}';
  return out;
}

}  // namespace foggate::gateway
