// Gateway: start, stop, the supervisor loop and live configuration
// changes. Each part of the message path lives in its own file (see the
// header and docs/architecture.md); this file only wires them together.
#include "foggate/gateway/gateway.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "alarms/alarm_document.h"
#include "alarms/alarm_service.h"
#include "config/remote_config.h"
#include "config/secrets.h"
#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"
#include "health/presence.h"
#include "ingress/coap_ingress.h"
#include "ingress/ingest.h"
#include "ingress/mqtt_ingress.h"
#include "metrics/gateway_metrics.h"
#include "ops/certificate_alerts.h"
#include "ops/load_sampler.h"
#include "ops/prometheus_listener.h"
#include "ops/systemd_notifier.h"
#include "uplink/uplink_slot.h"
#include "workers/worker_pool.h"

namespace foggate::gateway {
namespace {

// The configuration was validated: every level name parses.
void apply_log_levels(const GatewaySection& g) {
  log::Level level = log::Level::kInfo;
  (void)log::parse_level(g.log_level, level);
  log::logger().set_level(level);
  std::map<std::string, log::Level, std::less<>> modules;
  for (const auto& [module, name] : g.log_levels)
    if (log::parse_level(name, level)) modules[module] = level;
  log::logger().set_module_levels(modules);
}

constexpr int64_t kWaitWindowMs = 10'000;  // queue-wait window without the metrics topic
constexpr int64_t kSummaryEveryMs = 60'000;

}  // namespace

struct Gateway::Impl {
  Impl(Config c, const Clock& clk) : config(std::move(c)), clock(clk), uplink(clk), metrics(config.gateway.id) {}

  Config config;  // what start() built from; start-only values (id, broker, workers) never change
  const Clock& clock;
  // The sections a remote change may replace, for threads that read them
  // per message (ingest patterns, alert QoS, metrics interval).
  LiveConfig live;
  SystemdNotifier notifier;
  // Declared first of the parts so it is destroyed last: a late ingest
  // callback may still announce presence through it.
  std::unique_ptr<protocols::MqttClient> publisher;  // status, metrics, config, alarm state
  // Alerts only: foggate's own connection (<client_id>-alerts, no
  // subscriptions), whose thread writes an alert as soon as it is raised.
  std::unique_ptr<protocols::MqttIngestConnection> alert_link;
  std::unique_ptr<RemoteConfig> remote;              // with gateway.remote_config
  UplinkSlot uplink;
  std::unique_ptr<AlertPublisher> alerts;
  std::unique_ptr<AlarmService> alarms;  // with alarms.enabled
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<Ingest> ingest;  // pushes into the workers' queues
  std::unique_ptr<MqttIngress> mqtt;
  std::unique_ptr<CoapIngress> coap;
  std::unique_ptr<Presence> presence;
  uint64_t site_credentials = 0;  // credentials_fingerprint() of the site connections' credentials
  std::unique_ptr<LoadSampler> load;
  std::unique_ptr<CertificateAlerts> certificates;
  GatewayMetrics metrics;
  std::unique_ptr<PrometheusListener> prometheus;  // with metrics.prometheus.enabled

  std::atomic<bool> reload_requested{false};
  std::jthread supervisor;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;  // guarded by stop_mu
  bool started = false;

  Result<void> build();
  void apply(const Config& next, const std::vector<std::string>& changed);
  void reload();
  void run_supervisor();
};

// Creates every part; starts nothing that talks to the network.
Result<void> Gateway::Impl::build() {
  const auto& cfg = config;
  // Before anything starts: a missing password file stops start-up cleanly.
  protocols::MqttOptions site;
  if (auto r = apply_credentials(cfg.broker, site); !r) return r;
  site_credentials = credentials_fingerprint(site);
  live.store(std::make_shared<const Config>(cfg));
  if (auto r = uplink.start(cfg); !r) return r;

  protocols::MqttOptions pub = site;  // user name, password, TLS
  pub.uris = cfg.broker.uris;
  pub.client_id = cfg.broker.client_id + "-pub";
  pub.clean_session = true;
  pub.keepalive_s = cfg.broker.keepalive_s;
  publisher = std::make_unique<protocols::MqttClient>(pub, clock);
  const int64_t started_wall_ms = clock.wall_ms();
  presence = std::make_unique<Presence>(cfg.gateway.id, started_wall_ms, *publisher, notifier);
  // The publisher's subscriptions: the retained configuration sections and
  // the alarm command topics.
  std::vector<protocols::MqttSubscription> subscriptions;
  if (remote) {
    // Retained sections arrive on every (re)subscribe; unchanged ones are no-ops.
    for (const auto& t : remote->topics()) subscriptions.push_back({t, 1});
    remote->set_apply([this](const Config& next, const std::vector<std::string>& changed) { apply(next, changed); });
    remote->set_publish([this](const std::string& t, const std::string& p) { (void)publisher->publish(t, p, 1, true); });
  }
  if (cfg.alarms.enabled) subscriptions.push_back({alarm_command_filter(cfg.gateway.id), 1});
  if (!subscriptions.empty()) {
    publisher->set_subscriptions(std::move(subscriptions));
    const std::string alarm_prefix = "foggate/" + cfg.gateway.id + "/alarms/";
    publisher->on_message([this, alarm_prefix](const std::string& t, const std::string& p, bool retained) {
      if (t.starts_with(alarm_prefix)) {
        if (alarms) alarms->on_command(t, p, retained);
      } else if (remote) {
        remote->on_message(t, p);
      }
    });
  }

  protocols::MqttIngestOptions alert_options = site_connection_options(cfg, site);
  alert_options.client_id = cfg.broker.client_id + "-alerts";
  alert_options.thread_name = "mqtt-alerts";
  alert_link = std::make_unique<protocols::MqttIngestConnection>(std::move(alert_options));
  alerts = std::make_unique<AlertPublisher>(cfg.gateway.id, *alert_link, live);
  workers = std::make_unique<WorkerPool>(cfg.gateway, clock, *alerts,
                                         std::max<int64_t>(notifier.watchdog_interval_ms(), 1000));
  if (cfg.alarms.enabled) {
    alarms = std::make_unique<AlarmService>(cfg.gateway.id, live, *publisher, *alerts, clock);
    if (auto r = alarms->open(cfg.gateway.data_dir + "/alarms.db"); !r) return r;
    workers->set_alarms({.sink = alarms.get(), .seen = &alarms->seen_board(), .active = alarms->active_alarms()});
  }
  ingest = std::make_unique<Ingest>(clock, workers->queues(), cfg.gateway.queue_capacity, cfg.ingest.payload);
  ingest->set_rules(std::make_shared<const routing::RuleSet>(cfg.rules.ordered, cfg.rules.default_tasks));
  ingest->set_offload([this](std::shared_ptr<const Message> m, Priority p) {
    (void)workers->forward_sink()->forward(std::move(m), p, routing::kForwardOffloaded);
  });
  mqtt = std::make_unique<MqttIngress>(cfg, site, live, *ingest, clock,
                                       Presence::announcement(cfg.gateway.id, started_wall_ms));
  mqtt->on_ready([this] { presence->on_ingest_ready(); });
  coap = std::make_unique<CoapIngress>(*ingest);
  presence->watch(*mqtt, *workers);
  load = std::make_unique<LoadSampler>(cfg.gateway, *ingest, clock);
  certificates = std::make_unique<CertificateAlerts>(cfg, *publisher, clock);
  metrics.set_sources({.ingest = ingest.get(), .workers = workers.get(), .mqtt = mqtt.get(), .coap = coap.get(),
                       .uplink = &uplink, .load = load.get(), .certificates = certificates.get(),
                       .publisher = publisher.get(), .alert_link = alert_link.get(), .remote = remote.get(),
                       .alarms = alarms.get()});
  // Ingest skips the workers for forward tasks that would only be
  // discarded (no uplink); the count stays in forward_unconfigured_total.
  uplink.on_sink_changed([this](std::shared_ptr<routing::ForwardSink> sink, routing::ForwardSink* bypass) {
    ingest->set_forward_bypass(bypass);
    workers->set_forward_sink(std::move(sink));
  });
  workers->start(cfg.detectors);
  if (alarms) alarms->start();
  return {};
}

// Applies a new effective configuration on the supervisor thread.
void Gateway::Impl::apply(const Config& next, const std::vector<std::string>& changed) {
  const auto before = live.load();
  live.store(std::make_shared<const Config>(next));
  for (const auto& name : changed) {
    const auto* section = find_section(name);
    if (section == nullptr) continue;
    switch (section->id) {
      case SectionId::kRules:
        ingest->set_rules(std::make_shared<const routing::RuleSet>(next.rules.ordered, next.rules.default_tasks));
        break;
      case SectionId::kDetectors: workers->set_detectors(next.detectors); break;
      case SectionId::kIngest:
        ingest->set_decode(next.ingest.payload);
        mqtt->set_filters(next.ingest);
        coap->apply(before->ingest, next.ingest);
        break;
      case SectionId::kUplink:
        uplink.apply(next);
        certificates->set_config(next);
        break;
      case SectionId::kAlerts:   // read per alert from `live`
      case SectionId::kMetrics:  // read per turn from `live`
      case SectionId::kAlarms:   // read per turn by the alarm thread from `live`
      case SectionId::kGateway:  // start-only
      case SectionId::kBroker: break;
    }
  }
}

// SIGHUP, on the supervisor thread (the one that ticks the MQTT clients).
void Gateway::Impl::reload() {
  const auto cfg = live.load();
  protocols::MqttOptions site;
  if (auto r = apply_credentials(cfg->broker, site); !r) {
    log::error("gateway", "reload: site broker credentials unusable; keeping the current ones",
               {{"detail", r.error().detail}});
  } else if (const uint64_t now = credentials_fingerprint(site); now == site_credentials) {
    // A reconnect would lose the QoS 0 readings the broker sends meanwhile.
    log::info("gateway", "reload: site broker credentials unchanged; its connections are kept");
  } else {
    site_credentials = now;
    publisher->renew_credentials(site.username, site.password, site.tls);
    alert_link->renew_credentials(site.username, site.password, site.tls);
    mqtt->renew_credentials(site);
  }
  uplink.reload(cfg->uplink);
  certificates->set_config(*cfg);
  coap->reload_keys(cfg->ingest);
  log::info("gateway", "credentials reloaded");
}

void Gateway::Impl::run_supervisor() {
  name_this_thread("supervisor");
  int64_t next_metrics = clock.mono_ms() + live.load()->metrics.interval_ms;
  int64_t next_summary = clock.mono_ms() + kSummaryEveryMs;
  uint64_t announced_connects = 0;  // publisher connects for which the config state went out
  std::unique_lock lock(stop_mu);
  while (!stopping) {
    stop_cv.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping) break;
    lock.unlock();
    if (reload_requested.exchange(false)) {
      presence->reload_started();
      reload();
      presence->reload_finished(clock.mono_ms());
    }
    certificates->tick();
    load->sample();
    log::logger().flush_repeats();  // counts of held-back repeated lines
    mqtt->tick();
    publisher->tick();
    if (remote) remote->process();
    // The state documents are retained: publish them after every reconnect
    // (a broker without persistence forgets them).
    if (const uint64_t connects = publisher->stats().connects.value();
        connects != announced_connects && publisher->connected()) {
      announced_connects = connects;
      if (remote) remote->publish_state();
      if (alarms) alarms->request_republish();
    }
    const int64_t now = clock.mono_ms();
    const int64_t interval = live.load()->metrics.interval_ms;
    if (now >= next_metrics) {
      // Without the metrics topic the wait window still rolls, for Prometheus.
      next_metrics = now + (interval > 0 ? interval : kWaitWindowMs);
      workers->roll_wait_window();
      if (interval > 0) metrics.publish(*publisher, clock.wall_ms());
    }
    if (now >= next_summary) {
      next_summary = now + kSummaryEveryMs;
      metrics.log_summary();
    }
    presence->tick(now);
    lock.lock();
  }
}

Gateway::Gateway(Config config, const Clock& clock) : impl_(std::make_unique<Impl>(std::move(config), clock)) {}

Gateway::~Gateway() { stop(); }

void Gateway::set_forward_sink(std::shared_ptr<routing::ForwardSink> sink) { impl_->uplink.set_external(std::move(sink)); }

void Gateway::reload_credentials() {
  impl_->reload_requested = true;
  impl_->stop_cv.notify_all();
}

uint16_t Gateway::coap_port() const { return impl_->coap ? impl_->coap->port() : 0; }

void Gateway::collect(MetricSink& out) const {
  if (impl_->workers) impl_->metrics.collect(out);
}

Result<void> Gateway::start() {
  auto& g = *impl_;
  if (g.started) return {};
  apply_log_levels(g.config.gateway);
  if (g.config.gateway.remote_config) {
    // The last good remote sections apply before the broker answers, so a
    // gateway that boots offline runs its latest rules and detectors.
    g.remote = std::make_unique<RemoteConfig>(g.config, g.clock);
    if (auto r = g.remote->open(); !r) return r;
    g.config = g.remote->effective();
  }
  const auto& cfg = g.config;
  if (auto r = g.build(); !r) {
    stop();
    return r;
  }
  // Bound before the broker hears of us: a port in use fails start.
  if (const auto& prom = cfg.metrics.prometheus; prom.enabled) {
    g.prometheus = std::make_unique<PrometheusListener>(prom, [&g] { return g.metrics.prometheus_page(); });
    g.metrics.set_prometheus(g.prometheus.get());  // before its thread reads the sources
    if (auto r = g.prometheus->start(); !r) {
      g.metrics.set_prometheus(nullptr);
      g.prometheus.reset();
      stop();
      return r;
    }
    log::info("prometheus", "listening", {{"bind", prom.bind}, {"port", std::to_string(g.prometheus->port())}});
    if (!prom.bind.starts_with("127.") && prom.bind != "::1")
      log::warn("prometheus", "the metrics listener is not on loopback: anyone who can reach it reads the metrics",
                {{"bind", prom.bind}});
  }
  // CoAP bound, then the publishers (so alerts can go out), then ingest.
  Result<void> r = g.coap->start(cfg.ingest);
  if (r) r = g.publisher->start();
  if (r) r = g.alert_link->start();
  if (r) r = g.mqtt->start();
  if (!r) {
    stop();
    return r;
  }
  g.supervisor = std::jthread([&g] { g.run_supervisor(); });
  g.started = true;
  log::info("gateway", "started", {{"id", cfg.gateway.id}, {"workers", std::to_string(cfg.gateway.workers)}});
  return {};
}

void Gateway::stop() {
  auto& g = *impl_;
  {
    std::lock_guard lock(g.stop_mu);
    if (g.stopping) return;
    g.stopping = true;
  }
  if (g.started) g.presence->stopping();
  g.stop_cv.notify_all();
  // 1. Producers: no new messages. Undelivered MQTT messages stay queued in
  //    the broker for our persistent session.
  if (g.mqtt) g.mqtt->pause();
  // The supervisor first: it may be applying a configuration that restarts CoAP.
  if (g.supervisor.joinable()) g.supervisor.join();
  // Scrapes end before anything they read goes away.
  if (g.prometheus) g.prometheus->stop();
  if (g.coap) g.coap->stop();
  // 2. Drain: workers finish every queued task, alerts included.
  if (g.workers) g.workers->close_and_join();
  // 2b. The alarm thread applies, stores and publishes what they handed it.
  if (g.alarms) g.alarms->stop();
  // 3. The uplink seals and commits what the workers forwarded.
  g.uplink.stop();
  // 4. Every reading is now safe: the last PUBACKs, "offline" on the
  //    status topic, then disconnect. The last alerts are written before
  //    the alert connection's DISCONNECT.
  if (g.mqtt) {
    if (g.started) g.presence->publish_offline(g.clock.wall_ms());
    g.mqtt->stop();
  }
  if (g.alert_link) g.alert_link->stop();
  // 5. The last metrics, then disconnect (waits for in-flight QoS 1).
  if (g.publisher) {
    if (g.started) {
      g.workers->roll_wait_window();
      g.metrics.publish(*g.publisher, g.clock.wall_ms());
    }
    g.publisher->stop(3000);
  }
  if (g.started) g.metrics.log_summary();
  g.started = false;
}

}  // namespace foggate::gateway
