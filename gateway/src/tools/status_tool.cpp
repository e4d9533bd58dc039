#include "tools/status_tool.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "foggate/base/clock.h"
#include "foggate/protocols/json.h"
#include "tools/tool_client.h"
#include "tools/tool_connection.h"

namespace foggate::gateway {
namespace {

using protocols::JsonValue;

std::string number(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string utc_time(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string duration(int64_t ms) {
  if (ms < 0) ms = 0;
  int64_t s = ms / 1000;
  const int64_t d = s / 86'400, h = s / 3600 % 24, m = s / 60 % 60;
  s %= 60;
  std::string out;
  if (d) out += std::to_string(d) + "d ";
  if (d || h) out += std::to_string(h) + "h ";
  if (d || h || m) out += std::to_string(m) + "m ";
  out += std::to_string(s) + "s";
  return out;
}

std::string bytes(double b) {
  char buf[32];
  if (b >= 1 << 20) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  return buf;
}

// The metrics object of a metrics document, keyed "name{label=value,...}".
class Metrics {
 public:
  explicit Metrics(const JsonValue* m) : m_(m) {}
  bool present() const { return m_ != nullptr; }
  bool has(std::string_view name) const { return each(name, "", [](double) {}) > 0; }
  // Sum (or max) over every sample of `name` whose labels contain `label`.
  double sum(std::string_view name, std::string_view label = "") const {
    double total = 0;
    each(name, label, [&](double v) { total += v; });
    return total;
  }
  double max(std::string_view name) const {
    double top = 0;
    each(name, "", [&](double v) { top = std::max(top, v); });
    return top;
  }

 private:
  template <typename F>
  int each(std::string_view name, std::string_view label, F&& f) const {
    int n = 0;
    if (m_ == nullptr) return 0;
    for (const auto& [key, v] : m_->members()) {
      const std::string_view k = key;
      if (!k.starts_with(name) || (k.size() > name.size() && k[name.size()] != '{')) continue;
      if (!label.empty() && k.find(label) == std::string_view::npos) continue;
      if (!v.is_number()) continue;
      f(v.as_number());
      ++n;
    }
    return n;
  }
  const JsonValue* m_;
};

std::string string_member(const JsonValue& v, std::string_view key) {
  const auto* m = v.find(key);
  return m && m->is_string() ? m->as_string() : "";
}

double number_member(const JsonValue& v, std::string_view key) {
  const auto* m = v.find(key);
  return m && m->is_number() ? m->as_number() : 0;
}

void append_metrics(std::string& out, const Metrics& m, const std::string& since_note) {
  out += "messages in: mqtt " + number(m.sum("messages_received_total", "source=mqtt")) + ", coap " +
         number(m.sum("messages_received_total", "source=coap")) + "; malformed " +
         number(m.sum("messages_malformed_total")) + "\n";
  out += "alerts:      " + number(m.sum("alerts_published_total")) + " published, " +
         number(m.sum("alerts_failed_total")) + " failed (raised " + number(m.sum("alerts_total", "kind=raised")) +
         ", anomalies " + number(m.sum("alerts_total", "kind=anomaly")) + ")\n";
  out += "queues:      depth " + number(m.sum("queue_depth")) + "; shed " +
         number(m.sum("tasks_shed_total") + m.sum("tasks_routed_total", "action=shed")) + ", offloaded " +
         number(m.sum("tasks_routed_total", "action=offload")) + "\n";
  if (m.has("uplink_connected")) {
    out += std::string("uplink:      ") + (m.sum("uplink_connected") > 0 ? "connected" : "disconnected") +
           "; spool " + number(m.sum("spool_batches")) + " batches (" + bytes(m.sum("spool_bytes")) + ")";
    if (m.sum("spool_batches") > 0) out += ", oldest " + duration(static_cast<int64_t>(m.max("spool_oldest_age_ms")));
    out += "\n";
    // Degraded forwarding (issue #15): shown once it ever happened.
    if (m.sum("uplink_summarized_readings_total") > 0 || m.sum("uplink_degraded") > 0) {
      std::string line;
      for (const char* p : {"normal", "low"}) {
        const std::string label = std::string("priority=") + p;
        if (!line.empty()) line += "; ";
        line += std::string(p) + (m.sum("uplink_degraded", label) > 0 ? " SUMMARIZING" : " full resolution") + " (" +
                number(m.sum("uplink_summarized_readings_total", label)) + " readings summarized, " +
                number(m.sum("uplink_summaries_sent_total", label)) + " summaries sent, degraded " +
                duration(static_cast<int64_t>(m.sum("uplink_degraded_seconds_total", label) * 1000)) + ")";
      }
      out += "degraded:    " + line + "\n";
    }
  } else {
    out += "uplink:      not configured\n";
  }
  out += "process:     RSS " + bytes(m.sum("process_rss_bytes")) + ", CPU " + number(m.sum("process_cpu_percent")) +
         "%" + since_note + "\n";
}

void append_config_state(std::string& out, const JsonValue& state) {
  const auto* sections = state.find("sections");
  if (sections == nullptr || !sections->is_object()) return;
  std::string line, rejected;
  for (const auto& [name, sec] : sections->members()) {
    const std::string layer = string_member(sec, "layer");
    if (!line.empty()) line += ", ";
    line += name + " " + layer;
    if (layer != "file" && sec.find("version")) line += " v" + number(number_member(sec, "version"));
    if (const auto* r = sec.find("rejected"); r && r->is_object())
      rejected += " " + name + " v" + number(number_member(*r, "version")) + " (" + string_member(*r, "layer") + ")";
  }
  out += "config:      " + line + "\n";
  if (!rejected.empty()) out += "rejected:   " + rejected + "\n";
}

}  // namespace

StatusSummary summarize_status(const std::string& id, const GatewayDocuments& docs, long timeout_s, int64_t now_ms) {
  StatusSummary s;
  auto status = protocols::parse_json(docs.status);
  if (docs.status.empty() || !status || !status->is_object()) {
    s.text = id + ": unknown (no status " + (docs.status.empty() ? "published" : "readable") + " within " +
             std::to_string(timeout_s) + " s: is the id right, and has it ever run against this broker?)\n";
    return s;
  }
  const std::string state = string_member(*status, "state");
  const double since = number_member(*status, "since_ms");
  const std::string version = string_member(*status, "version");
  s.online = state == "online";
  std::string head = id + ": " + (state.empty() ? "unknown" : state);
  if (since > 0) head += " since " + utc_time(static_cast<int64_t>(since));
  if (const std::string reason = string_member(*status, "reason"); !reason.empty()) head += " (" + reason + ")";
  if (!version.empty()) head += ", foggate " + version;
  s.text = head + "\n";

  auto metrics = protocols::parse_json(docs.metrics);
  const JsonValue* m = metrics && metrics->is_object() ? metrics->find("metrics") : nullptr;
  if (s.online) {
    const double at = metrics ? number_member(*metrics, "time_ms") : 0;
    if (since > 0) s.text += "uptime:      " + duration(static_cast<int64_t>((at > 0 ? at : static_cast<double>(now_ms)) - since)) + "\n";
    if (m == nullptr) s.text += "metrics:     none within " + std::to_string(timeout_s) + " s (metrics.interval_ms 0?)\n";
  }
  if (m != nullptr && m->is_object()) {
    const double at = number_member(*metrics, "time_ms");
    append_metrics(s.text, Metrics(m), at > 0 && !s.online ? " (as of " + utc_time(static_cast<int64_t>(at)) + ")" : "");
  }
  if (auto cs = protocols::parse_json(docs.config_state); !docs.config_state.empty() && cs && cs->is_object())
    append_config_state(s.text, *cs);
  return s;
}

int run_status_tool(const StatusToolOptions& o) {
  const std::string base = "foggate/" + o.id + "/";
  std::mutex mu;
  GatewayDocuments docs;  // guarded by mu
  // state/config first: its retained copy then arrives before the status.
  auto client = connect_tool_client(
      o.server, "status", o.timeout_s, {{base + "state/config", 1}, {base + "status", 1}, {base + "metrics", 0}},
      [&](const std::string& t, const std::string& p, bool) {
        std::lock_guard lock(mu);
        if (t == base + "status") docs.status = p;
        else if (t == base + "metrics") docs.metrics = p;
        else if (t == base + "state/config") docs.config_state = p;
      });
  if (!client) {
    std::fprintf(stderr, "foggate status: cannot connect to %s\n", describe_uris(o.server).c_str());
    return 1;
  }
  // The status is retained: it arrives right after the subscription unless
  // the gateway never ran. Metrics come every metrics.interval_ms while online.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  GatewayDocuments got;
  while (true) {
    {
      std::lock_guard lock(mu);
      got = docs;
    }
    const bool online = got.status.find("\"state\":\"online\"") != std::string::npos;
    const bool done = !got.status.empty() && (!online || !got.metrics.empty());
    if (done || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
  }
  client->stop(1000);
  const auto summary = summarize_status(o.id, got, o.timeout_s, SystemClock::instance().wall_ms());
  std::fputs(summary.text.c_str(), stdout);
  return summary.online ? 0 : 1;
}

}  // namespace foggate::gateway
