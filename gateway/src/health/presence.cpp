#include "health/presence.h"

#include "documents.h"

namespace foggate::gateway {

protocols::MqttPresence Presence::announcement(const std::string& gateway_id, int64_t started_ms) {
  return {status_topic(gateway_id), status_json(gateway_id, "online", "", started_ms),
          status_json(gateway_id, "offline", "connection lost", 0)};
}

void Presence::on_ingest_ready() {
  ingest_ready_ = true;
  announced_ = true;
}

void Presence::tick(int64_t now_ms) {
  // So a publisher reconnect before the resubscribe does not announce
  // "online" early.
  if (!ingress_->connected()) ingest_ready_ = false;
  if (!notifier_.active()) return;
  const bool workers_ok = workers_->workers_alive(now_ms);
  if (announced_ && !ready_sent_) {
    ready_sent_ = true;
    notifier_.ready("online");
  }
  notifier_.status(health_status(workers_ok));
  const int64_t interval = notifier_.watchdog_interval_ms();
  if (interval > 0 && workers_ok && now_ms >= next_watchdog_ms_) {
    next_watchdog_ms_ = now_ms + interval;
    notifier_.watchdog();
  }
}

void Presence::reload_started() {
  if (ready_sent_) notifier_.reloading("reloading credentials");
}

void Presence::reload_finished(int64_t now_ms) {
  if (ready_sent_) notifier_.ready(health_status(workers_->workers_alive(now_ms)));
}

void Presence::publish_offline(int64_t now_wall_ms) {
  ingress_->set_farewell(status_json(id_, "offline", "stopped", now_wall_ms));
}

// The short human state for systemd's STATUS= (systemctl status).
std::string Presence::health_status(bool workers_ok) const {
  if (!workers_ok) return "worker stuck with tasks queued";
  if (announced_ && ingest_ready_ && publisher_.connected()) return "online";
  if (!publisher_.connected() || !ingress_->connected()) return "site broker unreachable, retrying";
  return "connected, subscribing";
}

}  // namespace foggate::gateway
