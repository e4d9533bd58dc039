// The Prometheus text exposition format (version 0.0.4) of the samples
// Gateway::collect() produces, the same ones the metrics topic carries.
//
// Names: "foggate_" + the metric name. A name ending in _total is a counter,
// every other one a gauge; each family gets one "# TYPE" line and its
// samples together, in the order the family first appears; a repeated
// series (same name and labels) keeps its first sample. Texts become info
// gauges: foggate_<name>_info{message="<text>"} 1. Label values are
// escaped (\\, \", \n). Pure; any thread.
#pragma once

#include <string>

#include "documents.h"
#include "foggate/base/counter.h"

namespace foggate::gateway {

// The content type to serve the text with.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_text(const MetricSink& samples, const MetricTexts& texts = {});

// A metric or label name as Prometheus accepts it: [a-zA-Z_:][a-zA-Z0-9_:]*
// for metrics (no ':' for labels); anything else becomes '_'.
std::string prometheus_name(std::string_view s, bool label = false);
// A label value with \, " and newline escaped.
std::string prometheus_label_value(std::string_view s);

}  // namespace foggate::gateway
