// Gateway: the running foggate process minus main(): it builds the parts of
// the message path, owns every thread, and applies configuration changes.
//
// Threads (see docs/architecture.md; each part's header says more):
//  - Paho callback thread of the ingest clients (ingress/mqtt_ingress.h):
//    topic to Message, decode, classify, try_push.
//  - "coap" (ingress/coap_ingress.h): owns the libcoap context; the same.
//  - "worker-N" (workers/worker_pool.h, gateway.workers): each owns one
//    TaskQueue and the detector state of the devices hashed to it; runs
//    detect and forward tasks and publishes alerts.
//  - "uplink" (uplink/uplink.h): batches, spool, upstream sends.
//  - "supervisor" (gateway.cpp): drives MQTT reconnects, applies remote
//    configuration, publishes metrics, presence and systemd notifications.
//  - "prometheus" (metrics.prometheus.enabled): serves collect() as
//    Prometheus text, one connection at a time.
//
// start()/stop() are called from one controlling thread (main or a test).
// stop() is a clean shutdown: ingest stops first (the broker keeps
// undelivered messages in our persistent session), queued tasks are drained,
// alerts flushed, then presence goes offline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/routing/forward_sink.h"

namespace foggate::gateway {

class Gateway {
 public:
  explicit Gateway(Config config, const Clock& clock = SystemClock::instance());
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Where forward tasks go; set before start(). Until the uplink exists the
  // default sink counts each forward task and discards it.
  void set_forward_sink(std::shared_ptr<routing::ForwardSink> sink);

  // Starts every thread and connects to the broker (in the background: an
  // unreachable broker is retried, not an error). Errors: the CoAP endpoint
  // cannot be bound ("coap_bind"), nor the Prometheus listener
  // ("prometheus_bind"); the MQTT client cannot be created.
  Result<void> start();
  // Idempotent; see the header comment for the order.
  void stop();

  // Rotation (SIGHUP): reads passwords, certificates, keys and the CoAP
  // pre-shared keys again and reconnects with them, on the supervisor
  // thread; nothing queued or spooled is lost. Any thread; returns at once.
  void reload_credentials();

  // The CoAP port actually bound (0 when CoAP is off).
  uint16_t coap_port() const;
  // Every counter and gauge, for the metrics topic and the Prometheus
  // listener. Any thread.
  void collect(MetricSink& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foggate::gateway
