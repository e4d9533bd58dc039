// UplinkSlot: where forward tasks go. The store-and-forward Uplink while
// uplink.uris is configured; otherwise a stand-in that counts every forward
// task and discards it (forward_unconfigured_total), so nothing disappears
// unseen. A test or embedder may supply its own sink before start.
//
// Threads: start()/stop() on the controlling thread; apply() and reload()
// on the supervisor, the only thread that replaces the uplink; sink(),
// collect(), texts() from any thread (the uplink is copied under mu_).
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "documents.h"
#include "foggate/base/clock.h"
#include "foggate/base/result.h"
#include "foggate/gateway/config.h"
#include "foggate/routing/forward_sink.h"
#include "uplink/uplink.h"

namespace foggate::gateway {

// Counts every forward task so nothing disappears unseen.
class UnconfiguredUplink final : public routing::ForwardSink {
 public:
  bool forward(std::shared_ptr<const Message>, Priority, uint32_t) override;
  uint64_t discarded() const { return discarded_.value(); }

 private:
  Counter discarded_;
  std::atomic<bool> logged_{false};
};

class UplinkSlot {
 public:
  // Told each time the sink changes: `bypass` is the stand-in when forward
  // tasks are only counted (Ingest then skips the workers), else nullptr.
  using SinkChanged = std::function<void(std::shared_ptr<routing::ForwardSink> sink, routing::ForwardSink* bypass)>;

  explicit UplinkSlot(const Clock& clock) : clock_(clock) {}

  // Before start(): forward tasks go to `sink` instead of an uplink.
  void set_external(std::shared_ptr<routing::ForwardSink> sink) {
    std::lock_guard lock(mu_);
    sink_ = std::move(sink);
  }
  // Starts the uplink when configured (and no external sink is set).
  Result<void> start(const Config& cfg);
  void on_sink_changed(SinkChanged f);
  std::shared_ptr<routing::ForwardSink> sink() const;

  // A new uplink section: reconfigures, starts or stops the uplink.
  void apply(const Config& next);
  // SIGHUP: the uplink rebuilds its client with re-read credentials, when
  // they changed (credentials_fingerprint); otherwise its connection and
  // open batches are kept.
  void reload(const UplinkSection& section);
  // Seals and commits what the workers forwarded.
  void stop();

  void collect(MetricSink& out) const;
  MetricTexts texts() const;  // uplink_last_error, only with an uplink
  void log_summary() const;

 private:
  std::shared_ptr<Uplink> current() const;
  void use(std::shared_ptr<routing::ForwardSink> sink);

  const Clock& clock_;
  const std::shared_ptr<UnconfiguredUplink> unconfigured_ = std::make_shared<UnconfiguredUplink>();
  SinkChanged sink_changed_;
  mutable std::mutex mu_;
  std::shared_ptr<Uplink> uplink_;              // guarded by mu_ for readers off the supervisor
  std::shared_ptr<routing::ForwardSink> sink_;  // guarded by mu_
  uint64_t credentials_ = 0;  // fingerprint of what the uplink's client uses; 0: unknown
};

}  // namespace foggate::gateway
