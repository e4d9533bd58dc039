// CertificateAlerts: the certificate expiry watch put to work. Every CA and
// client certificate the broker and uplink sections point at (for TLS URIs)
// is read at start, daily and on reload; one that expires within
// gateway.cert_expiry_warn_days raises a warning alert (critical once
// expired) on foggate/<id>/alerts/<severity>/<id>.
//
// Threads: supervisor only (after start); collect() from any thread.
#pragma once

#include <memory>
#include <vector>

#include "foggate/base/clock.h"
#include "foggate/base/counter.h"
#include "foggate/gateway/config.h"
#include "foggate/protocols/mqtt_client.h"
#include "ops/cert_watch.h"

namespace foggate::gateway {

class CertificateAlerts {
 public:
  CertificateAlerts(const Config& cfg, protocols::MqttClient& publisher, const Clock& clock);

  // The configuration's certificates changed (uplink section, reload).
  void set_config(const Config& cfg);
  // Checks when a check is due.
  void tick();
  void collect(MetricSink& out) const;

 private:
  static std::vector<WatchedCertificate> watched(const Config& c);

  const std::string id_;
  protocols::MqttClient& publisher_;
  const Clock& clock_;
  std::unique_ptr<CertWatch> watch_;  // when cert_expiry_warn_days > 0
  Counter alerts_;
};

}  // namespace foggate::gateway
