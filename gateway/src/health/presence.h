// Presence: what foggate says about its own health. The retained status
// document on foggate/<id>/status, carried by the normal ingest connection
// ("online" once its subscriptions, and the priority lane's, are
// acknowledged; its Last Will says "offline"; "offline", "stopped" at
// stop), and
// systemd's view (Type=notify): READY=1 at the first "online", STATUS=,
// RELOADING=1, STOPPING=1, and WATCHDOG=1 only while every worker makes
// progress.
//
// Alerts raised before the Paho publisher has connected (its first CONNECT
// can wait ~100 ms for Paho's receive thread) wait in its buffer
// (broker.max_buffered); health_status() tells while it is down.
//
// Threads: on_ingest_ready() runs on the ingest connection's thread (an
// atomic); tick() and reload_*() on the supervisor; publish_offline() and
// stopping() on the controlling thread at stop. The notifier is the
// supervisor's after start.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "foggate/protocols/mqtt_client.h"
#include "ingress/mqtt_ingress.h"
#include "ops/systemd_notifier.h"
#include "workers/worker_pool.h"

namespace foggate::gateway {

class Presence {
 public:
  Presence(std::string gateway_id, int64_t started_ms, protocols::MqttClient& publisher, SystemdNotifier& notifier)
      : id_(std::move(gateway_id)), started_ms_(started_ms), publisher_(publisher), notifier_(notifier) {}

  static std::string status_topic(const std::string& gateway_id) { return "foggate/" + gateway_id + "/status"; }
  // What the normal ingest connection announces: "online" with the start
  // time, and its Last Will.
  static protocols::MqttPresence announcement(const std::string& gateway_id, int64_t started_ms);

  // Both must be set before the clients start.
  void watch(MqttIngress& ingress, WorkerPool& workers) {
    ingress_ = &ingress;
    workers_ = &workers;
  }

  // The normal lane published "online" just before.
  void on_ingest_ready();

  // Supervisor, every turn: not ready again until the resubscribe after a
  // reconnect is acknowledged; systemd status and watchdog.
  void tick(int64_t now_ms);
  // Around a SIGHUP reload (a reload before READY=1 is part of starting up).
  void reload_started();
  void reload_finished(int64_t now_ms);

  void stopping() { notifier_.stopping("stopping: draining queues"); }
  // Before the ingress stops: its last word on the status topic.
  void publish_offline(int64_t now_wall_ms);

 private:
  std::string health_status(bool workers_ok) const;

  const std::string id_;
  const int64_t started_ms_;
  protocols::MqttClient& publisher_;
  SystemdNotifier& notifier_;
  MqttIngress* ingress_ = nullptr;
  WorkerPool* workers_ = nullptr;
  std::atomic<bool> ingest_ready_{false};
  std::atomic<bool> announced_{false};  // "online" published at least once
  bool ready_sent_ = false;             // supervisor thread only
  int64_t next_watchdog_ms_ = 0;        // supervisor thread only
};

}  // namespace foggate::gateway
