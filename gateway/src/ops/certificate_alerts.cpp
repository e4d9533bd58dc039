#include "ops/certificate_alerts.h"

#include <algorithm>

#include "documents.h"
#include "foggate/base/log.h"

namespace foggate::gateway {

CertificateAlerts::CertificateAlerts(const Config& cfg, protocols::MqttClient& publisher, const Clock& clock)
    : id_(cfg.gateway.id), publisher_(publisher), clock_(clock) {
  if (cfg.gateway.cert_expiry_warn_days > 0)
    watch_ = std::make_unique<CertWatch>(watched(cfg), cfg.gateway.cert_expiry_warn_days, clock);
}

void CertificateAlerts::set_config(const Config& cfg) {
  if (watch_) watch_->set_certificates(watched(cfg));
}

// The certificates the configuration points at.
std::vector<WatchedCertificate> CertificateAlerts::watched(const Config& c) {
  std::vector<WatchedCertificate> out;
  auto add = [&](const std::vector<std::string>& uris, const protocols::MqttTls& tls, const std::string& role) {
    if (std::none_of(uris.begin(), uris.end(), [](const auto& u) { return protocols::is_tls_uri(u); })) return;
    if (!tls.ca_file.empty()) out.push_back({role + ".tls.ca_file", tls.ca_file});
    if (!tls.cert_file.empty()) out.push_back({role + ".tls.cert_file", tls.cert_file});
  };
  add(c.broker.uris, c.broker.tls, "broker");
  add(c.uplink.uris, c.uplink.tls, "uplink");
  return out;
}

void CertificateAlerts::tick() {
  if (!watch_ || !watch_->due()) return;
  const auto result = watch_->check();
  for (const auto& p : result.problems) log::warn("gateway", "certificate cannot be checked", {{"detail", p}});
  for (const auto& w : result.warnings) {
    const std::string severity = w.expired ? "critical" : "warning";
    log::warn("gateway", w.expired ? "certificate has expired" : "certificate expires soon",
              {{"role", w.role}, {"path", w.path}, {"days_left", std::to_string(w.days_left)}});
    alerts_.add();
    // Published even while disconnected: Paho holds it until the broker is back.
    (void)publisher_.publish(alert_topic(id_, severity, id_), cert_expiry_alert_json(id_, w, clock_.wall_ms()), 1, false);
  }
}

void CertificateAlerts::collect(MetricSink& out) const {
  out.push_back({"certificate_expiry_alerts_total", {}, static_cast<double>(alerts_.value())});
}

}  // namespace foggate::gateway
