// The JSON documents foggate publishes: alerts, presence (status) and
// metrics. Their shapes are public (docs/architecture.md, "Topics").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/routing/detectors.h"

namespace foggate::gateway {

// foggate/<gateway>/alerts/<severity>/<device>
std::string alert_topic(std::string_view gateway_id, std::string_view severity, std::string_view device);
inline std::string alert_topic(std::string_view gateway_id, const routing::Alert& a) {
  return alert_topic(gateway_id, a.severity, a.device);
}
std::string alert_json(std::string_view gateway_id, const routing::Alert& a);

// A configured certificate expires soon (warning) or has expired
// (critical); published on foggate/<gateway>/alerts/<severity>/<gateway>.
struct CertExpiryWarning;
std::string cert_expiry_alert_json(std::string_view gateway_id, const CertExpiryWarning& w, int64_t now_ms);

// Retained presence on foggate/<gateway>/status.
std::string status_json(std::string_view gateway_id, std::string_view state, std::string_view reason,
                        int64_t since_ms);

// The few metrics that are words, not numbers, by name: {"uplink_last_error", "..."}.
// Each value is at most kMetricTextMax bytes (cut at a UTF-8 boundary).
using MetricTexts = std::vector<std::pair<std::string, std::string>>;
inline constexpr std::size_t kMetricTextMax = 256;
// Cuts `s` to at most kMetricTextMax bytes without splitting a UTF-8 sequence.
std::string clamp_metric_text(std::string s);

// Metrics as one object: {"gateway":..., "time_ms":..., "metrics":{"name{k=v,...}": value}},
// plus "info":{"name": "text"} when there are texts.
std::string metrics_json(std::string_view gateway_id, int64_t time_ms, const MetricSink& samples,
                         const MetricTexts& texts = {});
// The key used in metrics_json for one sample: name{k=v,k2=v2} (no braces without labels).
std::string metric_key(const MetricSample& s);

// A device id as a topic level: characters that would change the topic's
// structure ('/', '+', '#', NUL) become '_'; empty becomes "_".
std::string topic_level(std::string_view s);

}  // namespace foggate::gateway
