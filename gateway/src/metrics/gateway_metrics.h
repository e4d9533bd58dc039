// GatewayMetrics: every counter and gauge of the running gateway in one
// collect(): each part collects its own samples, this file only lists the
// parts. The same samples feed the metrics topic (foggate/<id>/metrics,
// JSON), the Prometheus listener (text format) and the summary log line.
//
// Threads: collect() and prometheus_page() from any thread (every part's
// collect() is); publish() and log_summary() from the supervisor or at stop.
#pragma once

#include <string>

#include "alarms/alarm_service.h"
#include "config/remote_config.h"
#include "foggate/protocols/mqtt_client.h"
#include "ingress/coap_ingress.h"
#include "ingress/ingest.h"
#include "ingress/mqtt_ingress.h"
#include "ops/certificate_alerts.h"
#include "ops/load_sampler.h"
#include "ops/prometheus_listener.h"
#include "uplink/uplink_slot.h"
#include "workers/worker_pool.h"

namespace foggate::gateway {

// The parts that have samples; optional ones may be null.
struct MetricSources {
  const Ingest* ingest = nullptr;
  const WorkerPool* workers = nullptr;
  const MqttIngress* mqtt = nullptr;
  const CoapIngress* coap = nullptr;
  const UplinkSlot* uplink = nullptr;
  const LoadSampler* load = nullptr;
  const CertificateAlerts* certificates = nullptr;
  const protocols::MqttClient* publisher = nullptr;
  const protocols::MqttIngestConnection* alert_link = nullptr;
  const RemoteConfig* remote = nullptr;                // with gateway.remote_config
  const PrometheusListener* prometheus = nullptr;      // with metrics.prometheus.enabled
  const AlarmService* alarms = nullptr;                // with alarms.enabled
};

class GatewayMetrics {
 public:
  explicit GatewayMetrics(std::string gateway_id) : id_(std::move(gateway_id)) {}
  // Set once, before the threads that read them start.
  void set_sources(const MetricSources& s) { sources_ = s; }
  void set_prometheus(const PrometheusListener* p) { sources_.prometheus = p; }

  void collect(MetricSink& out) const;
  std::string prometheus_page() const;
  void publish(protocols::MqttClient& publisher, int64_t now_wall_ms) const;
  void log_summary() const;

 private:
  const std::string id_;
  MetricSources sources_;
};

}  // namespace foggate::gateway
