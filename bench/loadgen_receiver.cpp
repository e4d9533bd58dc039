#include "loadgen_receiver.h"

#include <chrono>
#include <cstdio>
#include <string_view>

#include "foggate/protocols/json.h"

namespace foggate::bench {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Receiver::Receiver(Format format, uint32_t devices, const SendTable& sent_at, const std::atomic<uint64_t>& sent)
    : format_(format), sent_at_(sent_at), sent_(sent), seqs_(devices) {}

void Receiver::message_arrived(mqtt::const_message_ptr msg) {
  // Taken first, so time spent below is not charged to the path measured.
  const int64_t now = now_us();
  try {
    const std::string& topic = msg->get_topic();
    if (topic.starts_with("sensors/")) {
      on_reading(topic, msg->get_payload_str(), now);
    } else if (topic.find("/alerts/") != std::string::npos) {
      on_alert(msg->get_payload_str(), now);
    } else if (topic.ends_with("/metrics")) {
      on_metrics(msg->get_payload_str(), now);
    }
  } catch (...) {
    // An exception reaching Paho's C thread would end the process; a lost
    // sample is only counted.
    std::lock_guard lock(mu_);
    ++report_.handler_errors;
  }
}

void Receiver::connection_lost(const std::string& cause) {
  try {
    std::fprintf(stderr, "loadgen: receiver lost its connection: %s\n", cause.c_str());
    std::lock_guard lock(mu_);
    ++report_.connection_lost;
  } catch (...) {
  }
}

void Receiver::on_reading(const std::string& topic, const std::string& payload, int64_t now) {
  const auto device = device_index(topic);
  const auto seq = read_seq(format_, payload);
  readings_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  auto& r = report_;
  ++r.readings;
  if (r.first_reading_us == 0) r.first_reading_us = now;
  r.last_reading_us = now;
  if (!device || !seq) return;
  seqs_.see(*device, *seq);
  if (const int64_t sent = sent_at_.get(*device, *seq); sent > 0) r.reading_latency.add(now - sent);
}

void Receiver::on_alert(const std::string& payload, int64_t now) {
  alerts_.fetch_add(1, std::memory_order_relaxed);
  auto doc = protocols::parse_json(payload);
  std::optional<uint32_t> device, seq;
  std::optional<int64_t> inbound_ms;
  if (doc) {
    const auto* d = doc->find("device");
    const auto* v = doc->find("value");
    if (d != nullptr && d->is_string()) device = device_index(d->as_string());
    if (v != nullptr && v->is_number()) seq = seq_of_alert_value(v->as_number());
    const auto* sent_ms = doc->find("sensor_ts_ms");
    const auto* received_ms = doc->find("received_ms");
    if (sent_ms != nullptr && sent_ms->is_number() && received_ms != nullptr && received_ms->is_number())
      inbound_ms = static_cast<int64_t>(received_ms->as_number() - sent_ms->as_number());
  }
  std::lock_guard lock(mu_);
  ++report_.alerts;
  const int64_t sent = device && seq ? sent_at_.get(*device, *seq) : 0;
  if (sent > 0) {
    report_.alert_latency.add(now - sent);
    report_.alert_log.emplace_back(sent, now - sent);
    if (inbound_ms) report_.alert_inbound.add(*inbound_ms * 1000);
  } else {
    ++report_.alerts_unmatched;  // not ours (a certificate alert), or garbled
  }
}

void Receiver::on_metrics(const std::string& payload, int64_t now) {
  auto doc = protocols::parse_json(payload);
  if (!doc) return;
  const auto* metrics = doc->find("metrics");
  if (metrics == nullptr || !metrics->is_object()) return;
  GatewaySample s;
  s.t_us = now;
  s.arrived_wall_ms = wall_now_ms();
  s.sent_then = sent_.load(std::memory_order_relaxed);
  if (const auto* t = doc->find("time_ms"); t != nullptr && t->is_number())
    s.taken_wall_ms = static_cast<int64_t>(t->as_number());
  for (const auto& [key, value] : metrics->members()) {
    if (!value.is_number()) continue;
    const std::string_view k = key;
    const double v = value.as_number();
    if (k == "messages_received_total{source=mqtt}") s.received = v;
    else if (k.starts_with("queue_depth")) s.queue_depth += v;
    else if (k.starts_with("tasks_shed_total") || k.starts_with("tasks_routed_total{action=shed")) s.shed += v;
    else if (k == "alerts_failed_total") s.alerts_failed = v;
    else if (k.starts_with("uplink_messages_sent_total")) s.uplink_messages += v;
    else if (k.starts_with("uplink_bytes_sent_total")) s.uplink_bytes += v;
    else if (k == "process_rss_bytes") s.rss_bytes = v;
  }
  std::lock_guard lock(mu_);
  report_.samples.push_back(s);
}

std::optional<GatewaySample> Receiver::last_sample() const {
  std::lock_guard lock(mu_);
  if (report_.samples.empty()) return std::nullopt;
  return report_.samples.back();
}

Receiver::Report Receiver::take_report() {
  std::lock_guard lock(mu_);
  report_.gaps = seqs_.gaps();
  report_.out_of_order = seqs_.out_of_order();
  return std::move(report_);
}

}  // namespace foggate::bench
