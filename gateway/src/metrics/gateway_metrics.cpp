#include "metrics/gateway_metrics.h"

#include "documents.h"
#include "foggate/base/log.h"
#include "ops/prometheus_text.h"

namespace foggate::gateway {

void GatewayMetrics::collect(MetricSink& out) const {
  const auto& s = sources_;
  s.ingest->collect(out);
  s.workers->collect(out);
  s.mqtt->collect(out);
  s.coap->collect(out);
  s.uplink->collect(out);
  s.load->collect(out);
  s.certificates->collect(out);
  s.publisher->collect(out, "publish");
  s.alert_link->collect(out, "alerts");
  if (s.remote) s.remote->stats().collect(out);
  if (s.prometheus) s.prometheus->collect(out);
  if (s.alarms) s.alarms->collect(out);
}

std::string GatewayMetrics::prometheus_page() const {
  MetricSink samples;
  collect(samples);
  return prometheus_text(samples, sources_.uplink->texts());
}

void GatewayMetrics::publish(protocols::MqttClient& publisher, int64_t now_wall_ms) const {
  MetricSink samples;
  collect(samples);
  (void)publisher.publish("foggate/" + id_ + "/metrics",
                          metrics_json(id_, now_wall_ms, samples, sources_.uplink->texts()), 0, false);
}

void GatewayMetrics::log_summary() const {
  const auto& s = sources_;
  const auto& m = s.ingest->stats(Source::kMqtt);
  const auto& c = s.ingest->stats(Source::kCoap);
  s.uplink->log_summary();
  log::info("gateway", "summary",
            {{"mqtt_in", std::to_string(m.received.value())},
             {"coap_in", std::to_string(c.received.value())},
             {"malformed", std::to_string(m.malformed.value() + c.malformed.value())},
             {"queued", std::to_string(s.workers->queued())},
             {"shed", std::to_string(s.workers->shed())},
             {"alerts", std::to_string(s.workers->alerts_published())}});
}

}  // namespace foggate::gateway
