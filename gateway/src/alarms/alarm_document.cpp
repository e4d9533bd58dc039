#include "alarms/alarm_document.h"

#include "documents.h"
#include "foggate/protocols/json.h"

namespace foggate::gateway {

using protocols::append_json_number;
using protocols::append_json_string;

std::string alarm_topic(std::string_view gateway_id, const routing::AlarmKey& k) {
  std::string t = "foggate/";
  t += gateway_id;
  t += "/alarms/";
  t += topic_level(k.device);
  t += '/';
  t += topic_level(k.detector);
  return t;
}

std::string alarm_command_filter(std::string_view gateway_id) {
  return "foggate/" + std::string(gateway_id) + "/alarms/+/+/+";
}

// Members that are zero or empty are left out (a consumer reads absence as
// "not acknowledged", "not shelved", "still active").
std::string alarm_json(std::string_view gateway_id, const routing::Alarm& a) {
  std::string out;
  out.reserve(384);
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
  auto time = [&](const char* key, int64_t ms) {
    if (ms != 0) num(key, static_cast<double>(ms));
  };
  out += '{';
  str("gateway", gateway_id);
  str("device", a.device);
  str("detector", a.detector);
  str("kind", a.kind);
  str("state", routing::to_string(a.state));
  str("severity", a.severity);
  str("field", a.field);
  num("value", a.value);
  num("limit", a.limit);
  time("first_raised_ms", a.first_raised_ms);
  time("last_raised_ms", a.last_raised_ms);
  num("reraises", static_cast<double>(a.reraises));
  time("cleared_ms", a.cleared_ms);
  if (!a.acked_by.empty()) str("acknowledged_by", a.acked_by);
  time("acknowledged_ms", a.acked_ms);
  if (!a.ack_comment.empty()) str("ack_comment", a.ack_comment);
  if (a.shelved()) {
    str("shelved_by", a.shelved_by);
    time("shelved_until_ms", a.shelved_until_ms);
    if (!a.shelve_comment.empty()) str("shelve_comment", a.shelve_comment);
  }
  out += '}';
  return out;
}

std::optional<routing::Alarm> parse_alarm_json(std::string_view text) {
  auto doc = protocols::parse_json(text);
  if (!doc || !doc->is_object()) return std::nullopt;
  routing::Alarm a;
  auto str = [&](const char* key, std::string& out, bool required) {
    const auto* v = doc->find(key);
    if (v == nullptr) return !required;
    if (!v->is_string()) return false;
    out = v->as_string();
    return true;
  };
  auto num = [&](const char* key, auto& out) {
    const auto* v = doc->find(key);
    if (v == nullptr) return true;
    if (!v->is_number()) return false;
    out = static_cast<std::remove_reference_t<decltype(out)>>(v->as_number());
    return true;
  };
  std::string state;
  const bool ok = str("device", a.device, true) && str("detector", a.detector, true) && str("kind", a.kind, true) &&
                  str("state", state, true) && str("severity", a.severity, true) && str("field", a.field, false) &&
                  num("value", a.value) && num("limit", a.limit) && num("first_raised_ms", a.first_raised_ms) &&
                  num("last_raised_ms", a.last_raised_ms) && num("reraises", a.reraises) &&
                  num("cleared_ms", a.cleared_ms) && str("acknowledged_by", a.acked_by, false) &&
                  num("acknowledged_ms", a.acked_ms) && str("ack_comment", a.ack_comment, false) &&
                  str("shelved_by", a.shelved_by, false) && num("shelved_until_ms", a.shelved_until_ms) &&
                  str("shelve_comment", a.shelve_comment, false) && routing::parse_alarm_state(state, a.state);
  if (!ok || a.device.empty() || a.detector.empty()) return std::nullopt;
  return a;
}

}  // namespace foggate::gateway
