#include "uplink/uplink_slot.h"

#include "config/secrets.h"
#include "foggate/base/log.h"

namespace foggate::gateway {
namespace {

// 0 when the password cannot be resolved: a reload then always rebuilds.
uint64_t fingerprint(const UplinkSection& s) {
  protocols::MqttOptions mo;
  if (!apply_credentials(s, mo)) return 0;
  return credentials_fingerprint(mo);
}

}  // namespace

bool UnconfiguredUplink::forward(std::shared_ptr<const Message>, Priority, uint32_t) {
  discarded_.add();
  // Checked here, not in warn_once: this runs for every forward task.
  if (!logged_.exchange(true, std::memory_order_relaxed))
    log::warn("uplink", "no uplink configured: forward tasks are counted and discarded");
  return false;
}

Result<void> UplinkSlot::start(const Config& cfg) {
  if (sink()) return {};  // an external sink
  if (!cfg.uplink.enabled()) {
    use(unconfigured_);
    return {};
  }
  auto u = std::make_shared<Uplink>(cfg, clock_);
  if (auto r = u->start(); !r) return r;
  credentials_ = fingerprint(cfg.uplink);
  {
    std::lock_guard lock(mu_);
    uplink_ = u;
  }
  use(std::move(u));
  return {};
}

void UplinkSlot::on_sink_changed(SinkChanged f) {
  sink_changed_ = std::move(f);
  if (auto s = sink()) sink_changed_(s, s == unconfigured_ ? unconfigured_.get() : nullptr);
}

std::shared_ptr<routing::ForwardSink> UplinkSlot::sink() const {
  std::lock_guard lock(mu_);
  return sink_;
}

std::shared_ptr<Uplink> UplinkSlot::current() const {
  std::lock_guard lock(mu_);
  return uplink_;
}

void UplinkSlot::use(std::shared_ptr<routing::ForwardSink> sink) {
  {
    std::lock_guard lock(mu_);
    sink_ = sink;
  }
  if (sink_changed_) sink_changed_(sink, sink == unconfigured_ ? unconfigured_.get() : nullptr);
}

void UplinkSlot::apply(const Config& next) {
  const auto uplink = current();
  credentials_ = fingerprint(next.uplink);
  if (uplink && next.uplink.enabled()) {
    uplink->reconfigure(next.uplink);
  } else if (!uplink && next.uplink.enabled()) {
    auto u = std::make_shared<Uplink>(next, clock_);
    if (auto r = u->start(); !r) {
      log::error("uplink", "cannot start with the new settings", {{"detail", r.error().detail}});
      return;
    }
    {
      std::lock_guard lock(mu_);
      uplink_ = u;
    }
    use(std::move(u));
  } else if (uplink && !next.uplink.enabled()) {
    // Turned off: what was accepted is committed to the spool and stays
    // there for when the uplink comes back.
    use(unconfigured_);
    uplink->stop();
    std::lock_guard lock(mu_);
    uplink_.reset();  // a later section that turns it on builds a new one
  }
}

void UplinkSlot::reload(const UplinkSection& section) {
  auto u = current();
  if (!u || !section.enabled()) return;
  const uint64_t now = fingerprint(section);
  if (now != 0 && now == credentials_) {
    log::info("uplink", "reload: uplink credentials unchanged; its connection and open batches are kept");
    return;
  }
  credentials_ = now;
  u->reconfigure(section);
}

void UplinkSlot::stop() {
  if (auto u = current()) u->stop();
}

void UplinkSlot::collect(MetricSink& out) const {
  out.push_back({"forward_unconfigured_total", {}, static_cast<double>(unconfigured_->discarded())});
  if (auto u = current()) u->collect(out);
}

MetricTexts UplinkSlot::texts() const {
  MetricTexts out;
  if (auto u = current()) out.emplace_back("uplink_last_error", clamp_metric_text(u->last_error()));
  return out;
}

void UplinkSlot::log_summary() const {
  if (auto u = current()) u->log_summary();
}

}  // namespace foggate::gateway
