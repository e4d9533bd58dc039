// Presence: what foggate says about its own health. The retained status
// document on foggate/<id>/status ("online" once alerts can go out and the
// ingest subscriptions are acknowledged; the Last Will says "offline"), and
// systemd's view (Type=notify): READY=1 at the first "online", STATUS=,
// RELOADING=1, STOPPING=1, and WATCHDOG=1 only while every worker makes
// progress.
//
// Threads: on_ingest_ready() and on_publisher_connected() run on Paho's
// callback threads (atomics and one publish); tick() and reload_*() on the
// supervisor; publish_offline() and stopping() on the controlling thread at
// stop. The notifier is the supervisor's after start.
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
  // The Last Will the publisher connects with.
  static protocols::MqttWill will(const std::string& gateway_id);

  // Both must be set before the clients start.
  void watch(const MqttIngress& ingress, WorkerPool& workers) {
    ingress_ = &ingress;
    workers_ = &workers;
  }

  void on_ingest_ready();
  void on_publisher_connected() { announce_online(); }

  // Supervisor, every turn: not ready again until the resubscribe after a
  // reconnect is acknowledged; systemd status and watchdog.
  void tick(int64_t now_ms);
  // Around a SIGHUP reload (a reload before READY=1 is part of starting up).
  void reload_started();
  void reload_finished(int64_t now_ms);

  void stopping() { notifier_.stopping("stopping: draining queues"); }
  void publish_offline(int64_t now_wall_ms);

 private:
  void announce_online();
  std::string health_status(bool workers_ok) const;

  const std::string id_;
  const int64_t started_ms_;
  protocols::MqttClient& publisher_;
  SystemdNotifier& notifier_;
  const MqttIngress* ingress_ = nullptr;
  WorkerPool* workers_ = nullptr;
  std::atomic<bool> ingest_ready_{false};
  std::atomic<bool> announced_{false};  // "online" published at least once
  bool ready_sent_ = false;             // supervisor thread only
  int64_t next_watchdog_ms_ = 0;        // supervisor thread only
};

}  // namespace foggate::gateway
