#include "ops/load_sampler.h"

#include "foggate/base/log.h"

namespace foggate::gateway {

void LoadSampler::sample() {
  const int64_t now = clock_.mono_ms();
  if (now < next_sample_ms_) return;
  next_sample_ms_ = now + 1000;
  const auto usage = read_process_usage();
  if (!usage) return;
  if (last_usage_ms_ > 0)
    cpu_percent_x10_.store(static_cast<int64_t>(cpu_percent(last_usage_, *usage, now - last_usage_ms_) * 10));
  last_usage_ = *usage;
  last_usage_ms_ = now;
  rss_bytes_.store(usage->rss_bytes);
  const bool cpu_high = cpu_mark_percent_ > 0 && cpu_percent_x10_.load() > int64_t{cpu_mark_percent_} * 10;
  const bool rss_high = rss_mark_mb_ > 0 && usage->rss_bytes > (rss_mark_mb_ << 20);
  if (ingest_.pressure() != (cpu_high || rss_high)) {
    log::warn("gateway", cpu_high || rss_high ? "overload marks crossed: on_overload policies apply"
                                              : "back under the overload marks",
              {{"cpu_percent", std::to_string(cpu_percent_x10_.load() / 10)},
               {"rss_mb", std::to_string(usage->rss_bytes >> 20)}});
    ingest_.set_pressure(cpu_high || rss_high);
  }
}

void LoadSampler::collect(MetricSink& out) const {
  out.push_back({"process_cpu_percent", {}, static_cast<double>(cpu_percent_x10_.load()) / 10.0});
  out.push_back({"process_rss_bytes", {}, static_cast<double>(rss_bytes_.load())});
}

}  // namespace foggate::gateway
