// WorkerPool: the worker threads, their task queues and the detector state,
// and alert publishing: the hop of the message path after Ingest, where a
// task is run (detect: evaluate and publish alerts; forward: hand to the
// ForwardSink).
//
// Threads: "worker-N" each owns queue N and the DetectorBank of the devices
// hashed to it (no lock on detector state). start()/close_and_join() from
// the gateway's controlling thread; set_detectors(), set_forward_sink(),
// roll_wait_window() and workers_alive() from the supervisor (the last two
// only there); queues() and collect() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/mqtt_ingest_connection.h"
#include "foggate/routing/alarm_book.h"
#include "foggate/routing/detectors.h"
#include "foggate/routing/forward_sink.h"
#include "foggate/routing/task_queue.h"
#include "foggate/routing/wait_histogram.h"
#include "foggate/routing/seen_board.h"
#include "workers/worker_watch.h"

namespace foggate::gateway {

// Publishes alerts on foggate/<id>/alerts/<severity>/<device> with the
// live alerts section's QoS and retain flag, on the gateway's alert
// connection (written by that connection's thread at once, never behind
// Paho's traffic). Called by every worker and the alarm thread.
class AlertPublisher {
 public:
  AlertPublisher(std::string gateway_id, protocols::MqttIngestConnection& link, const LiveConfig& live)
      : gateway_id_(std::move(gateway_id)), link_(link), live_(live) {}
  void publish(const routing::Alert& a);
  void collect(MetricSink& out) const;
  uint64_t published() const { return published_.value(); }

 private:
  const std::string gateway_id_;
  protocols::MqttIngestConnection& link_;
  const LiveConfig& live_;
  Counter published_;
  Counter failed_;
  std::array<Counter, 3> by_severity_;  // published: critical, warning, info (the detectors' severities)
};

class AlarmSink;

// With alarms on: where alerts go instead of straight to the publisher,
// the board of stale-sensor readings, and the active threshold alarms a
// worker's detectors start from (those of the devices hashed to it).
struct WorkerAlarms {
  AlarmSink* sink = nullptr;
  routing::SeenBoard* seen = nullptr;
  std::vector<routing::Alarm> active;
};

class WorkerPool {
 public:
  // `gw`: workers, queue_capacity and max_tracked_devices (start-only).
  // `watch_interval_ms`: how long a worker may hold queued tasks without
  // taking one before workers_alive() says it is stuck.
  WorkerPool(const GatewaySection& gw, const Clock& clock, AlertPublisher& alerts, int64_t watch_interval_ms);
  ~WorkerPool();  // closes and joins

  std::vector<std::unique_ptr<routing::TaskQueue>>& queues() { return queues_; }

  // Before start(); without it alerts go straight to the AlertPublisher.
  void set_alarms(WorkerAlarms alarms) { alarms_ = std::move(alarms); }

  // Set the forward sink first (set_forward_sink()).
  void start(std::vector<routing::DetectorSpec> detectors);
  // Workers finish every queued task, then exit. Idempotent.
  void close_and_join();

  // New detectors take effect before each worker's next task; state
  // carries over where name, type and field are unchanged.
  void set_detectors(std::vector<routing::DetectorSpec> detectors);
  void set_forward_sink(std::shared_ptr<routing::ForwardSink> sink) { forward_sink_.store(std::move(sink)); }
  std::shared_ptr<routing::ForwardSink> forward_sink() const { return forward_sink_.load(); }

  // Closes the current queue-wait window: its p50/p99 become the values
  // every reader sees until the next roll. Supervisor thread (or stop()).
  void roll_wait_window();
  // False while a worker has tasks queued and has taken none for the watch
  // interval: its thread is stuck. Logs once per episode. Supervisor thread.
  bool workers_alive(int64_t now_ms);

  std::size_t queued() const;
  uint64_t shed() const;
  uint64_t alerts_published() const { return alerts_.published(); }
  void collect(MetricSink& out) const;

 private:
  void run(std::size_t index);
  void publish(const routing::Alert& a, const std::shared_ptr<const Message>& reading);

  const GatewaySection gw_;
  const Clock& clock_;
  AlertPublisher& alerts_;
  std::vector<std::unique_ptr<routing::TaskQueue>> queues_;
  std::atomic<std::shared_ptr<const std::vector<routing::DetectorSpec>>> detector_specs_;
  std::atomic<uint64_t> detector_generation_{0};
  std::atomic<std::shared_ptr<routing::ForwardSink>> forward_sink_;
  routing::DetectorStats detector_stats_;
  WorkerAlarms alarms_;    // set before start, then read-only
  Counter alarm_refused_;  // alerts the full alarm inbox refused: published without alarm state
  Counter worker_errors_;  // tasks that threw (allocation failure): dropped, counted
  // Bumped by each worker per task taken; read by the supervisor.
  std::unique_ptr<std::atomic<uint64_t>[]> progress_;
  WorkerWatch watch_;                                    // supervisor thread only
  bool stuck_logged_ = false;                            // supervisor thread only
  routing::WaitHistogram::Counts wait_window_start_{};   // supervisor thread only
  std::atomic<int64_t> wait_p50_ms_{0};
  std::atomic<int64_t> wait_p99_ms_{0};
  std::vector<std::jthread> threads_;
};

}  // namespace foggate::gateway
