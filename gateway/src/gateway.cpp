#include "foggate/gateway/gateway.h"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "cert_watch.h"
#include "documents.h"
#include "process_usage.h"
#include "prometheus_listener.h"
#include "prometheus_text.h"
#include "foggate/base/log.h"
#include "foggate/message/topic.h"
#include "foggate/protocols/coap_server.h"
#include "foggate/protocols/mqtt_client.h"
#include "foggate/routing/detectors.h"
#include "ingest.h"
#include "remote_config.h"
#include "secrets.h"
#include "systemd_notifier.h"
#include "uplink.h"
#include "worker_watch.h"

namespace foggate::gateway {
namespace {

// Stands in for the store-and-forward uplink until one is configured:
// counts every forward task so nothing disappears unseen.
class UnconfiguredUplink final : public routing::ForwardSink {
 public:
  bool forward(std::shared_ptr<const Message>, Priority, uint32_t) override {
    discarded_.add();
    // Checked here, not in warn_once: this runs for every forward task.
    if (!logged_.exchange(true, std::memory_order_relaxed))
      log::warn("uplink", "no uplink configured: forward tasks are counted and discarded");
    return false;
  }
  Counter discarded_;
  std::atomic<bool> logged_{false};
};

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

}  // namespace

struct Gateway::Impl {
  Impl(Config c, const Clock& clk) : config(std::move(c)), clock(clk) {}

  Config config;  // what start() built from; start-only values (id, broker, workers) never change
  const Clock& clock;
  // The sections a remote change may replace, for threads that read them
  // per message (ingest patterns, alert QoS, metrics interval).
  std::atomic<std::shared_ptr<const Config>> live;
  std::atomic<std::shared_ptr<const std::vector<routing::DetectorSpec>>> detector_specs;
  std::atomic<uint64_t> detector_generation{0};
  std::unique_ptr<RemoteConfig> remote;
  std::atomic<bool> coap_restart{false};
  std::atomic<bool> reload_requested{false};
  std::unique_ptr<CertWatch> cert_watch;  // supervisor thread only (after start)
  int64_t next_load_sample_ms = 0;        // supervisor thread only
  int64_t last_usage_ms = 0;              // supervisor thread only
  ProcessUsage last_usage;                // supervisor thread only
  std::atomic<int64_t> cpu_percent_x10{0};
  std::atomic<int64_t> rss_bytes{0};
  Counter cert_alerts;
  std::atomic<bool> pattern_mismatch_logged{false};
  Counter worker_errors;  // tasks that threw (allocation failure): dropped, counted
  protocols::CoapStats coap_stats;  // outlives every CoapServer instance
  Counter coap_rebind_failures;
  std::atomic<std::shared_ptr<routing::ForwardSink>> forward_sink;
  std::shared_ptr<UnconfiguredUplink> unconfigured = std::make_shared<UnconfiguredUplink>();
  // When uplink.uris is configured. Replaced only by the supervisor (and
  // start()), under uplink_mu, so that collect() on the Prometheus thread
  // can take a reference; the supervisor's own reads need no lock.
  std::shared_ptr<Uplink> uplink;
  mutable std::mutex uplink_mu;
  std::unique_ptr<PrometheusListener> prometheus;  // when metrics.prometheus.enabled
  // Queue wait quantiles of the last closed window (one metrics interval):
  // the supervisor rolls the window, every reader sees the same values.
  routing::WaitHistogram::Counts wait_window_start{};  // supervisor thread only
  std::atomic<int64_t> wait_p50_ms{0};
  std::atomic<int64_t> wait_p99_ms{0};

  std::vector<std::unique_ptr<routing::TaskQueue>> queues;
  std::unique_ptr<Ingest> ingest;
  routing::DetectorStats detector_stats;
  Counter alerts_published;
  Counter alerts_failed;
  // The publisher is declared first so it is destroyed last: a late
  // subscriber callback may still announce presence through it.
  std::unique_ptr<protocols::MqttClient> publisher;   // alerts, status, metrics; carries the Last Will
  std::unique_ptr<protocols::MqttClient> subscriber;  // persistent session, ingest only
  // Subscriptions with "lane": "priority", when the start configuration has
  // any: their own connection and broker queue (configuration.md).
  std::unique_ptr<protocols::MqttClient> priority_subscriber;
  Counter lane_duplicates;  // messages that arrived on both lanes, dropped from the normal one

  std::vector<std::jthread> workers;
  std::jthread coap_thread;
  std::jthread supervisor;
  std::atomic<uint16_t> coap_port{0};
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;  // guarded by stop_mu
  bool started = false;
  int64_t started_ms = 0;

  std::atomic<bool> ingest_ready{false};
  std::atomic<bool> announced{false};  // "online" published at least once

  // systemd (Type=notify): READY=1 at the first "online", STATUS= lines,
  // WATCHDOG=1 while the supervisor and every worker make progress.
  SystemdNotifier notifier;
  // Bumped by each worker per task taken; read by the supervisor.
  std::unique_ptr<std::atomic<uint64_t>[]> worker_progress;
  std::unique_ptr<WorkerWatch> worker_watch;  // supervisor thread only
  bool ready_sent = false;                    // supervisor thread only
  int64_t next_watchdog_ms = 0;               // supervisor thread only
  bool stuck_logged = false;                  // supervisor thread only

  // "online" means ready: alerts can go out and the ingest subscriptions
  // are acknowledged. Called from either client's Paho thread.
  void announce_online() {
    if (!ingest_ready || !publisher->connected()) return;
    (void)publisher->publish(status_topic(), status_json(config.gateway.id, "online", "", started_ms), 1, true);
    announced = true;
  }

  std::string status_topic() const { return "foggate/" + config.gateway.id + "/status"; }

  // The subscriptions each lane's connection holds. Without a priority
  // connection every entry goes to the normal one.
  std::vector<protocols::MqttSubscription> lane_subscriptions(const IngestSection& in, bool priority_lane) const {
    const bool split = priority_subscriber != nullptr;
    std::vector<protocols::MqttSubscription> subs;
    for (const auto& s : in.mqtt)
      if ((split && s.priority_lane) == priority_lane) subs.push_back({s.filter, s.qos});
    return subs;
  }

  void on_mqtt_message(const std::string& topic, const std::string& payload, bool priority_lane) {
    const auto cfg = live.load();
    const MqttIngest* sub = nullptr;  // the first entry of this lane that matches
    for (const auto& s : cfg->ingest.mqtt) {
      if (!topic_matches(s.filter, topic)) continue;
      const bool on_priority = s.priority_lane && priority_subscriber;
      if (on_priority && !priority_lane) {
        // The priority connection delivers this one too, ahead of any backlog.
        lane_duplicates.add();
        return;
      }
      if (on_priority == priority_lane && sub == nullptr) sub = &s;
      // Only a priority lane needs the later entries (to spot duplicates).
      if (sub != nullptr && !priority_subscriber) break;
    }
    Message m;
    m.source = Source::kMqtt;
    m.topic = topic;
    m.payload = payload;
    TopicCaptures cap;
    if (sub != nullptr && extract_topic(sub->pattern, topic, cap)) {
      m.device.assign(cap.device);
      m.metric.assign(cap.metric);
    } else {
      // Still tracked per topic, so nothing is lost; the counter tells the
      // operator the pattern needs a look.
      m.device = topic;
      ingest->note_pattern_mismatch(Source::kMqtt);
      if (!pattern_mismatch_logged.exchange(true, std::memory_order_relaxed))
        log::warn("ingest-mqtt", "topic does not fit the subscription pattern; the topic is used as device id",
                  {{"topic", topic}});
    }
    m.format = sub != nullptr ? sub->format : PayloadFormat::kAuto;
    // MQTT has no way to push back on one message: a full queue sheds by
    // priority instead (counted in tasks_shed_total).
    (void)ingest->accept(std::move(m), false);
  }

  protocols::CoapReply on_coap_request(protocols::CoapRequest&& req) {
    Message m;
    m.source = Source::kCoap;
    m.device = std::move(req.device);
    m.metric = std::move(req.metric);
    m.topic = "sensors/" + m.device + (m.metric.empty() ? "" : "/" + m.metric);
    m.format = req.format;
    m.payload = std::move(req.body);
    auto v = ingest->accept(std::move(m), true);
    switch (v.outcome) {
      case Ingest::Outcome::kAccepted: return {};
      case Ingest::Outcome::kMalformed: return {protocols::CoapReply::Code::kBadRequest, std::move(v.reason)};
      case Ingest::Outcome::kOverloaded: return {protocols::CoapReply::Code::kServiceUnavailable, {}};
    }
    return {};
  }

  void publish_alert(const routing::Alert& a) {
    const auto cfg = live.load();
    auto r = publisher->publish(alert_topic(config.gateway.id, a), alert_json(config.gateway.id, a),
                                cfg->alerts.qos, cfg->alerts.retain);
    if (r) {
      alerts_published.add();
    } else {
      alerts_failed.add();
      log::warn_once("alerts", "publish_failed", "alert could not be queued for publishing",
                     {{"detail", r.error().detail}});
    }
  }

  // Ingest skips the workers for forward tasks that would only be
  // discarded (no uplink); the count stays in forward_unconfigured_total.
  void use_forward_sink(std::shared_ptr<routing::ForwardSink> sink) {
    if (ingest) ingest->set_forward_bypass(sink == unconfigured ? unconfigured.get() : nullptr);
    forward_sink.store(std::move(sink));
  }

  void run_worker(std::size_t index) {
    uint64_t generation = detector_generation.load();
    // The cap is the gateway's; devices are spread over the workers by a
    // hash, never exactly evenly, so each worker may keep a quarter (and 16)
    // more than its share: no worker evicts before the gateway holds the cap.
    const std::size_t share = (config.gateway.max_tracked_devices + queues.size() - 1) / queues.size();
    const std::size_t cap = queues.size() == 1 ? share : share + share / 4 + 16;
    routing::DetectorBank bank(detector_specs.load(), clock, detector_stats, cap);
    std::vector<routing::Alert> alerts;
    auto& queue = *queues[index];
    auto& progress = worker_progress[index];
    while (auto task = queue.pop()) {
      progress.fetch_add(1, std::memory_order_relaxed);
      const auto task_start = std::chrono::steady_clock::now();
      try {
        if (const uint64_t g = detector_generation.load(); g != generation) {
          // New detectors: state carries over where name, type and field are unchanged.
          generation = g;
          bank.set_specs(detector_specs.load());
        }
        if (task->kind == routing::TaskKind::kDetect) {
          alerts.clear();
          bank.evaluate(*task->message, alerts);
          for (const auto& a : alerts) publish_alert(a);
        } else if (task->kind == routing::TaskKind::kForward) {
          forward_sink.load()->forward(std::move(task->message), task->priority, 0);
        }
      } catch (const std::exception& e) {
        // Only allocation failure can throw here; keep the worker alive.
        worker_errors.add();
        log::warn_once("worker", "task_failed", "task failed; dropped and counted", {{"what", e.what()}});
      }
      // Feeds the queue's wait estimate (routing under load).
      queue.record_service_us(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - task_start).count());
    }
  }

  void run_coap(protocols::CoapOptions options, std::promise<Result<void>> opened) {
    protocols::CoapServer server(
        options, [this](protocols::CoapRequest&& r) { return on_coap_request(std::move(r)); }, coap_stats);
    auto r = server.open();
    if (r) coap_port = server.port();
    const bool ok = r.has_value();
    opened.set_value(std::move(r));
    if (!ok) return;
    log::info("coap", "listening",
              {{"bind", options.plain ? options.bind : "-"}, {"port", std::to_string(coap_port.load())},
               {"dtls_bind", options.dtls.enabled ? options.dtls.bind : "-"},
               {"dtls_port", std::to_string(server.dtls_port())},
               {"dtls_identities", std::to_string(options.dtls.keys.size())}});
    while (!stop_requested() && !coap_restart) server.poll(100);
  }

  // Starts the CoAP thread and waits until its endpoints are bound (or not).
  // The coaps key file is read here, so a restart picks up a rotated one.
  Result<void> start_coap(const IngestSection& in) {
    protocols::CoapOptions options = in.coap;
    if (options.dtls.enabled) {
      auto keys = read_psk_file(in.coaps_psk_file);
      if (!keys) return unexpected(keys.error());
      options.dtls.keys = std::move(*keys);
    }
    std::promise<Result<void>> opened;
    auto fut = opened.get_future();
    coap_thread = std::jthread([this, options, p = std::move(opened)]() mutable { run_coap(options, std::move(p)); });
    return fut.get();
  }

  static bool coap_wanted(const IngestSection& in) { return in.coap_enabled || in.coap.dtls.enabled; }

  // Stops the CoAP thread and serves `next` instead; when that fails, goes
  // back to `before` (which worked) so devices keep being served.
  void restart_coap(const IngestSection& before, const IngestSection& next) {
    coap_restart = true;
    if (coap_thread.joinable()) coap_thread.join();
    coap_restart = false;
    coap_port = 0;
    if (!coap_wanted(next)) return;
    if (auto r = start_coap(next); !r) {
      coap_rebind_failures.add();
      log::error("coap", "cannot serve with the new settings; keeping the old ones", {{"detail", r.error().detail}});
      if (coap_wanted(before)) (void)start_coap(before);
    }
  }

  // Applies a new effective configuration on the supervisor thread.
  void apply(const Config& next, const std::vector<std::string>& changed) {
    const auto before = live.load();
    live.store(std::make_shared<const Config>(next));
    for (const auto& name : changed) {
      if (name == "rules") {
        ingest->set_rules(std::make_shared<const routing::RuleSet>(next.rules.ordered, next.rules.default_tasks));
      } else if (name == "detectors") {
        detector_specs.store(std::make_shared<const std::vector<routing::DetectorSpec>>(next.detectors));
        ++detector_generation;
      } else if (name == "ingest") {
        ingest->set_decode(next.ingest.payload);
        subscriber->set_subscriptions(lane_subscriptions(next.ingest, false));
        if (priority_subscriber) {
          priority_subscriber->set_subscriptions(lane_subscriptions(next.ingest, true));
        } else if (std::any_of(next.ingest.mqtt.begin(), next.ingest.mqtt.end(),
                               [](const MqttIngest& s) { return s.priority_lane; })) {
          log::warn("ingest-mqtt", "the priority lane opens at the next restart; its filters use the normal connection until then");
        }
        const auto& oc = before->ingest.coap;
        const auto& nc = next.ingest.coap;
        if (before->ingest.coap_enabled != next.ingest.coap_enabled || oc.bind != nc.bind || oc.port != nc.port ||
            oc.max_body_bytes != nc.max_body_bytes || oc.overload_max_age_s != nc.overload_max_age_s ||
            oc.dtls.enabled != nc.dtls.enabled || oc.dtls.bind != nc.dtls.bind || oc.dtls.port != nc.dtls.port ||
            before->ingest.coaps_psk_file != next.ingest.coaps_psk_file)
          restart_coap(before->ingest, next.ingest);
      } else if (name == "uplink") {
        apply_uplink(next);
        if (cert_watch) cert_watch->set_certificates(watched_certificates(next));
      }
    }
  }

  void apply_uplink(const Config& next) {
    if (uplink && next.uplink.enabled()) {
      uplink->reconfigure(next.uplink);
      return;
    }
    if (!uplink && next.uplink.enabled()) {
      auto u = std::make_shared<Uplink>(next, clock);
      if (auto r = u->start(); !r) {
        log::error("uplink", "cannot start with the new settings", {{"detail", r.error().detail}});
        return;
      }
      {
        std::lock_guard lock(uplink_mu);
        uplink = u;
      }
      use_forward_sink(u);
      return;
    }
    if (uplink && !next.uplink.enabled()) {
      // Turned off: what was accepted is committed to the spool and stays
      // there for when the uplink comes back.
      use_forward_sink(unconfigured);
      uplink->stop();
      std::lock_guard lock(uplink_mu);
      uplink.reset();  // a later section that turns it on builds a new one
    }
  }

  bool stop_requested() {
    std::lock_guard lock(stop_mu);
    return stopping;
  }

  void run_supervisor() {
    int64_t next_metrics = clock.mono_ms() + live.load()->metrics.interval_ms;
    int64_t next_summary = clock.mono_ms() + 60'000;
    uint64_t announced_connects = 0;  // publisher connects for which the config state went out
    std::unique_lock lock(stop_mu);
    while (!stopping) {
      stop_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (stopping) break;
      lock.unlock();
      if (reload_requested.exchange(false)) {
        // A reload before the first READY=1 is part of starting up.
        if (ready_sent) notifier.reloading("reloading credentials");
        reload();
        if (ready_sent) notifier.ready(health_status(workers_alive(clock.mono_ms())));
      }
      // Not ready again until the resubscribe after a reconnect is acknowledged,
      // so a publisher reconnect meanwhile does not announce "online" early.
      if (!subscriber->connected()) ingest_ready = false;
      if (cert_watch && cert_watch->due()) check_certificates();
      sample_load();
      log::logger().flush_repeats();  // counts of held-back repeated lines
      subscriber->tick();
      if (priority_subscriber) priority_subscriber->tick();
      publisher->tick();
      if (remote) {
        remote->process();
        // The state document is retained: publish it after every reconnect
        // (a broker without persistence forgets it).
        const uint64_t connects = publisher->stats().connects.value();
        if (connects != announced_connects && publisher->connected()) {
          announced_connects = connects;
          remote->publish_state();
        }
      }
      const int64_t now = clock.mono_ms();
      const int64_t interval = live.load()->metrics.interval_ms;
      if (now >= next_metrics) {
        // Without the metrics topic the wait window still rolls, for Prometheus.
        next_metrics = now + (interval > 0 ? interval : kWaitWindowMs);
        roll_wait_window();
        if (interval > 0) publish_metrics();
      }
      if (now >= next_summary) {
        next_summary = now + 60'000;
        log_summary();
      }
      notify_systemd(now);
      lock.lock();
    }
  }

  // False while a worker has tasks queued and has taken none for the
  // watchdog interval (at least a second): its thread is stuck, and
  // systemd's watchdog should restart us.
  bool workers_alive(int64_t now) {
    bool alive = true;
    for (std::size_t i = 0; i < queues.size(); ++i) {
      if (worker_watch->observe(i, worker_progress[i].load(std::memory_order_relaxed), queues[i]->size(), now)) continue;
      alive = false;
      if (!stuck_logged) {
        stuck_logged = true;
        log::error("gateway", "worker stuck with tasks queued; the systemd watchdog is no longer fed",
                   {{"worker", std::to_string(i)}, {"queued", std::to_string(queues[i]->size())},
                    {"stalled_ms", std::to_string(worker_watch->stalled_ms(i, now))}});
      }
    }
    if (alive) stuck_logged = false;
    return alive;
  }

  // The short human state for systemd's STATUS= (systemctl status).
  std::string health_status(bool workers_ok) const {
    if (!workers_ok) return "worker stuck with tasks queued";
    if (announced && ingest_ready && publisher->connected()) return "online";
    if (!publisher->connected() || !subscriber->connected())
      return "site broker unreachable, retrying";
    return "connected, subscribing";
  }

  // Supervisor thread, every tick.
  void notify_systemd(int64_t now) {
    if (!notifier.active()) return;
    const bool workers_ok = workers_alive(now);
    if (announced && !ready_sent) {
      ready_sent = true;
      notifier.ready("online");
    }
    notifier.status(health_status(workers_ok));
    const int64_t interval = notifier.watchdog_interval_ms();
    if (interval > 0 && workers_ok && now >= next_watchdog_ms) {
      next_watchdog_ms = now + interval;
      notifier.watchdog();
    }
  }

  // Once a second: CPU and RSS for the metrics and the overload marks.
  void sample_load() {
    const int64_t now = clock.mono_ms();
    if (now < next_load_sample_ms) return;
    next_load_sample_ms = now + 1000;
    const auto usage = read_process_usage();
    if (!usage) return;
    if (last_usage_ms > 0) cpu_percent_x10.store(static_cast<int64_t>(cpu_percent(last_usage, *usage, now - last_usage_ms) * 10));
    last_usage = *usage;
    last_usage_ms = now;
    rss_bytes.store(usage->rss_bytes);
    const auto& g = config.gateway;
    const bool cpu_high = g.overload_cpu_percent > 0 && cpu_percent_x10.load() > int64_t{g.overload_cpu_percent} * 10;
    const bool rss_high = g.overload_rss_mb > 0 && usage->rss_bytes > (g.overload_rss_mb << 20);
    if (ingest->pressure() != (cpu_high || rss_high)) {
      log::warn("gateway", cpu_high || rss_high ? "overload marks crossed: on_overload policies apply"
                                                : "back under the overload marks",
                {{"cpu_percent", std::to_string(cpu_percent_x10.load() / 10)},
                 {"rss_mb", std::to_string(usage->rss_bytes >> 20)}});
      ingest->set_pressure(cpu_high || rss_high);
    }
  }

  // The certificates the configuration points at, for the expiry watch.
  static std::vector<WatchedCertificate> watched_certificates(const Config& c) {
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

  void check_certificates() {
    const auto result = cert_watch->check();
    for (const auto& p : result.problems) log::warn("gateway", "certificate cannot be checked", {{"detail", p}});
    const auto& id = config.gateway.id;
    for (const auto& w : result.warnings) {
      const std::string severity = w.expired ? "critical" : "warning";
      log::warn("gateway", w.expired ? "certificate has expired" : "certificate expires soon",
                {{"role", w.role}, {"path", w.path}, {"days_left", std::to_string(w.days_left)}});
      cert_alerts.add();
      // Published even while disconnected: Paho holds it until the broker is back.
      (void)publisher->publish(alert_topic(id, severity, id),
                               cert_expiry_alert_json(id, w, clock.wall_ms()), 1, false);
    }
  }

  // On the supervisor thread, the one that ticks the MQTT clients.
  void reload() {
    const auto cfg = live.load();
    protocols::MqttOptions site;
    if (auto r = apply_credentials(cfg->broker, site); !r) {
      log::error("gateway", "reload: site broker credentials unusable; keeping the current ones",
                 {{"detail", r.error().detail}});
    } else {
      publisher->renew_credentials(site.username, site.password, site.tls);
      subscriber->renew_credentials(site.username, site.password, site.tls);
      if (priority_subscriber) priority_subscriber->renew_credentials(site.username, site.password, site.tls);
    }
    if (uplink && cfg->uplink.enabled()) uplink->reconfigure(cfg->uplink);
    if (cert_watch) cert_watch->set_certificates(watched_certificates(*cfg));
    if (cfg->ingest.coap.dtls.enabled) {
      // Check the new key file first: a bad one must not take CoAP down.
      if (auto keys = read_psk_file(cfg->ingest.coaps_psk_file); !keys) {
        coap_rebind_failures.add();
        log::error("coap", "reload: key file unusable; keeping the current keys", {{"detail", keys.error().detail}});
      } else {
        restart_coap(cfg->ingest, cfg->ingest);
      }
    }
    log::info("gateway", "credentials reloaded");
  }

  static constexpr int64_t kWaitWindowMs = 10'000;

  // Closes the current queue-wait window: its p50/p99 become the values
  // every reader sees until the next roll. Supervisor thread (or stop()).
  void roll_wait_window() {
    routing::WaitHistogram::Counts now{};
    for (const auto& q : queues) {
      const auto c = q->stats().wait.snapshot();
      for (std::size_t i = 0; i < now.size(); ++i) now[i] += c[i];
    }
    wait_p50_ms = routing::WaitHistogram::quantile_ms(now, wait_window_start, 0.5);
    wait_p99_ms = routing::WaitHistogram::quantile_ms(now, wait_window_start, 0.99);
    wait_window_start = now;
  }

  void publish_metrics() {
    MetricSink samples;
    collect(samples);
    (void)publisher->publish("foggate/" + config.gateway.id + "/metrics",
                             metrics_json(config.gateway.id, clock.wall_ms(), samples, collect_texts()), 0, false);
  }

  // The metrics that are words; uplink_last_error only with an uplink.
  MetricTexts collect_texts() const {
    MetricTexts out;
    std::shared_ptr<Uplink> u;
    {
      std::lock_guard lock(uplink_mu);
      u = uplink;
    }
    if (u) out.emplace_back("uplink_last_error", clamp_metric_text(u->last_error()));
    return out;
  }

  // The Prometheus listener's page: the same collect() as the metrics topic.
  std::string prometheus_page() const {
    MetricSink samples;
    collect(samples);
    return prometheus_text(samples, collect_texts());
  }

  void log_summary() {
    uint64_t shed = 0, depth = 0;
    for (const auto& q : queues) {
      shed += q->stats().shed_total();
      depth += q->size();
    }
    const auto& m = ingest->stats(Source::kMqtt);
    const auto& c = ingest->stats(Source::kCoap);
    if (uplink) uplink->log_summary();
    log::info("gateway", "summary",
              {{"mqtt_in", std::to_string(m.received.value())},
               {"coap_in", std::to_string(c.received.value())},
               {"malformed", std::to_string(m.malformed.value() + c.malformed.value())},
               {"queued", std::to_string(depth)},
               {"shed", std::to_string(shed)},
               {"alerts", std::to_string(alerts_published.value())}});
  }

  void collect(MetricSink& out) const {
    ingest->collect(out);
    for (std::size_t i = 0; i < queues.size(); ++i) {
      queues[i]->stats().collect(out, std::to_string(i));
      out.push_back({"queue_depth", {{"queue", std::to_string(i)}}, static_cast<double>(queues[i]->size())});
    }
    out.push_back({"detector_evaluations_total", {}, static_cast<double>(detector_stats.evaluations.value())});
    out.push_back({"alerts_total", {{"kind", "raised"}}, static_cast<double>(detector_stats.raised.value())});
    out.push_back({"alerts_total", {{"kind", "cleared"}}, static_cast<double>(detector_stats.cleared.value())});
    out.push_back({"alerts_total", {{"kind", "anomaly"}}, static_cast<double>(detector_stats.anomalies.value())});
    out.push_back({"alerts_suppressed_total", {}, static_cast<double>(detector_stats.suppressed.value())});
    out.push_back({"alerts_published_total", {}, static_cast<double>(alerts_published.value())});
    out.push_back({"alerts_failed_total", {}, static_cast<double>(alerts_failed.value())});
    out.push_back({"task_wait_p50_ms", {}, static_cast<double>(wait_p50_ms.load())});
    out.push_back({"task_wait_p99_ms", {}, static_cast<double>(wait_p99_ms.load())});
    out.push_back({"detectors_tracked", {}, static_cast<double>(detector_stats.tracked.value())});
    out.push_back({"detector_states_evicted_total", {}, static_cast<double>(detector_stats.evicted.value())});
    out.push_back({"forward_unconfigured_total", {}, static_cast<double>(unconfigured->discarded_.value())});
    out.push_back({"mqtt_lane_duplicates_total", {}, static_cast<double>(lane_duplicates.value())});
    out.push_back({"worker_errors_total", {}, static_cast<double>(worker_errors.value())});
    const std::pair<const char*, const Counter*> coap[] = {
        {"accepted", &coap_stats.accepted},       {"bad_request", &coap_stats.bad_request},
        {"too_large", &coap_stats.too_large},     {"overloaded", &coap_stats.overloaded},
        {"not_found", &coap_stats.not_found},     {"handler_error", &coap_stats.handler_errors},
        {"forbidden", &coap_stats.forbidden}};
    for (const auto& [outcome, c] : coap)
      out.push_back({"coap_responses_total", {{"outcome", outcome}}, static_cast<double>(c->value())});
    out.push_back({"coap_rebind_failures_total", {}, static_cast<double>(coap_rebind_failures.value())});
    out.push_back({"certificate_expiry_alerts_total", {}, static_cast<double>(cert_alerts.value())});
    out.push_back({"process_cpu_percent", {}, static_cast<double>(cpu_percent_x10.load()) / 10.0});
    out.push_back({"process_rss_bytes", {}, static_cast<double>(rss_bytes.load())});
    out.push_back({"coap_dtls_refused_total", {{"reason", "unknown_identity"}},
                   static_cast<double>(coap_stats.dtls_unknown_identity.value())});
    out.push_back({"coap_dtls_refused_total", {{"reason", "handshake_error"}},
                   static_cast<double>(coap_stats.dtls_errors.value())});
    out.push_back({"coap_receive_drops_total", {}, static_cast<double>(coap_stats.receive_drops.value())});
    {
      std::shared_ptr<Uplink> u;
      {
        std::lock_guard lock(uplink_mu);
        u = uplink;
      }
      if (u) u->collect(out);
    }
    if (prometheus) prometheus->collect(out);
    if (remote) {
      out.push_back({"config_sections_total", {{"outcome", "applied"}}, static_cast<double>(remote->stats().applied.value())});
      out.push_back({"config_sections_total", {{"outcome", "rejected"}}, static_cast<double>(remote->stats().rejected.value())});
      out.push_back({"config_sections_total", {{"outcome", "unchanged"}}, static_cast<double>(remote->stats().unchanged.value())});
      out.push_back({"config_not_persisted_total", {}, static_cast<double>(remote->stats().not_persisted.value())});
    }
    for (const auto* cl : {subscriber.get(), priority_subscriber.get(), publisher.get()}) {
      if (cl == nullptr) continue;
      const std::string role = cl == subscriber.get() ? "ingest" : cl == publisher.get() ? "publish" : "ingest-priority";
      out.push_back({"mqtt_connected", {{"client", role}}, cl->connected() ? 1.0 : 0.0});
      out.push_back({"mqtt_connects_total", {{"client", role}}, static_cast<double>(cl->stats().connects.value())});
      out.push_back({"mqtt_publish_failures_total", {{"client", role}},
                     static_cast<double>(cl->stats().publish_failures.value())});
      out.push_back({"mqtt_handler_errors_total", {{"client", role}},
                     static_cast<double>(cl->stats().handler_errors.value())});
    }
  }
};

Gateway::Gateway(Config config, const Clock& clock) : impl_(std::make_unique<Impl>(std::move(config), clock)) {}

Gateway::~Gateway() { stop(); }

void Gateway::set_forward_sink(std::shared_ptr<routing::ForwardSink> sink) { impl_->use_forward_sink(std::move(sink)); }

void Gateway::reload_credentials() {
  impl_->reload_requested = true;
  impl_->stop_cv.notify_all();
}

uint16_t Gateway::coap_port() const { return impl_->coap_port.load(); }

void Gateway::collect(MetricSink& out) const { impl_->collect(out); }

Result<void> Gateway::start() {
  auto& g = *impl_;
  if (g.started) return {};
  apply_log_levels(g.config.gateway);
  g.started_ms = g.clock.wall_ms();
  if (g.config.gateway.remote_config) {
    // The last good remote sections apply before the broker answers, so a
    // gateway that boots offline runs its latest rules and detectors.
    g.remote = std::make_unique<RemoteConfig>(g.config, g.clock);
    if (auto r = g.remote->open(); !r) return r;
    g.config = g.remote->effective();
  }
  const auto& cfg = g.config;
  // Before anything starts: a missing password file stops start-up cleanly.
  protocols::MqttOptions site_credentials;
  if (auto r = apply_credentials(cfg.broker, site_credentials); !r) return r;
  g.live.store(std::make_shared<const Config>(cfg));
  g.detector_specs.store(std::make_shared<const std::vector<routing::DetectorSpec>>(cfg.detectors));
  if (!g.forward_sink.load() && cfg.uplink.enabled()) {
    g.uplink = std::make_shared<Uplink>(cfg, g.clock);
    if (auto r = g.uplink->start(); !r) {
      g.uplink.reset();
      return r;
    }
    g.forward_sink.store(g.uplink);
  }
  if (!g.forward_sink.load()) g.forward_sink.store(g.unconfigured);

  const auto workers = static_cast<std::size_t>(cfg.gateway.workers);
  for (std::size_t i = 0; i < workers; ++i)
    g.queues.push_back(std::make_unique<routing::TaskQueue>(
        routing::TaskQueueOptions{.capacity = cfg.gateway.queue_capacity,
                                  .critical_overflow = std::max<std::size_t>(cfg.gateway.queue_capacity / 4, 16)},
        g.clock));
  g.ingest = std::make_unique<Ingest>(g.clock, g.queues, cfg.gateway.queue_capacity, cfg.ingest.payload);
  g.ingest->set_rules(std::make_shared<const routing::RuleSet>(cfg.rules.ordered, cfg.rules.default_tasks));
  g.use_forward_sink(g.forward_sink.load());
  g.ingest->set_offload([&g](std::shared_ptr<const Message> m, Priority p) {
    (void)g.forward_sink.load()->forward(std::move(m), p, routing::kForwardOffloaded);
  });

  protocols::MqttOptions pub = std::move(site_credentials);  // user name, password, TLS
  pub.uris = cfg.broker.uris;
  pub.client_id = cfg.broker.client_id + "-pub";
  pub.clean_session = true;
  pub.keepalive_s = cfg.broker.keepalive_s;
  pub.will = {g.status_topic(), status_json(cfg.gateway.id, "offline", "connection lost", 0), 1, true};
  g.publisher = std::make_unique<protocols::MqttClient>(pub, g.clock);
  g.publisher->on_connected([&g](bool) { g.announce_online(); });
  if (g.remote) {
    // Retained sections arrive on every (re)subscribe; unchanged ones are no-ops.
    std::vector<protocols::MqttSubscription> config_topics;
    for (const auto& t : g.remote->topics()) config_topics.push_back({t, 1});
    g.publisher->set_subscriptions(std::move(config_topics));
    g.publisher->on_message([&g](const std::string& t, const std::string& p, bool) { g.remote->on_message(t, p); });
    g.remote->set_apply([&g](const Config& next, const std::vector<std::string>& changed) { g.apply(next, changed); });
    g.remote->set_publish([&g](const std::string& t, const std::string& p) { (void)g.publisher->publish(t, p, 1, true); });
  }

  protocols::MqttOptions sub = pub;
  sub.client_id = cfg.broker.client_id;
  sub.clean_session = false;
  sub.will = {};
  g.subscriber = std::make_unique<protocols::MqttClient>(sub, g.clock);
  if (std::any_of(cfg.ingest.mqtt.begin(), cfg.ingest.mqtt.end(), [](const MqttIngest& s) { return s.priority_lane; })) {
    protocols::MqttOptions prio = sub;
    prio.client_id = cfg.broker.client_id + "-prio";
    g.priority_subscriber = std::make_unique<protocols::MqttClient>(prio, g.clock);
    g.priority_subscriber->set_subscriptions(g.lane_subscriptions(cfg.ingest, true));
    g.priority_subscriber->on_message(
        [&g](const std::string& t, const std::string& p, bool) { g.on_mqtt_message(t, p, true); });
  }
  g.subscriber->set_subscriptions(g.lane_subscriptions(cfg.ingest, false));
  g.subscriber->on_connected([&g](bool) {
    g.ingest_ready = true;
    g.announce_online();
  });
  g.subscriber->on_message([&g](const std::string& t, const std::string& p, bool) { g.on_mqtt_message(t, p, false); });

  g.worker_progress = std::make_unique<std::atomic<uint64_t>[]>(workers);
  g.worker_watch = std::make_unique<WorkerWatch>(
      workers, std::max<int64_t>(g.notifier.watchdog_interval_ms(), 1000));
  for (std::size_t i = 0; i < workers; ++i) g.workers.emplace_back([&g, i] { g.run_worker(i); });

  // Bound before the broker hears of us: a port in use fails start.
  if (const auto& prom = cfg.metrics.prometheus; prom.enabled) {
    g.prometheus = std::make_unique<PrometheusListener>(prom, [&g] { return g.prometheus_page(); });
    if (auto r = g.prometheus->start(); !r) {
      g.prometheus.reset();
      stop();
      return r;
    }
    log::info("prometheus", "listening", {{"bind", prom.bind}, {"port", std::to_string(g.prometheus->port())}});
    if (!prom.bind.starts_with("127.") && prom.bind != "::1")
      log::warn("prometheus", "the metrics listener is not on loopback: anyone who can reach it reads the metrics",
                {{"bind", prom.bind}});
  }
  if (Impl::coap_wanted(cfg.ingest)) {
    if (auto r = g.start_coap(cfg.ingest); !r) {
      stop();
      return r;
    }
  }
  if (auto r = g.publisher->start(); !r) {
    stop();
    return r;
  }
  for (auto* client : {g.priority_subscriber.get(), g.subscriber.get()}) {
    if (client == nullptr) continue;
    if (auto r = client->start(); !r) {
      stop();
      return r;
    }
  }
  if (cfg.gateway.cert_expiry_warn_days > 0)
    g.cert_watch = std::make_unique<CertWatch>(Impl::watched_certificates(cfg), cfg.gateway.cert_expiry_warn_days, g.clock);
  g.supervisor = std::jthread([&g] { g.run_supervisor(); });
  g.started = true;
  log::info("gateway", "started", {{"id", cfg.gateway.id}, {"workers", std::to_string(workers)}});
  return {};
}

void Gateway::stop() {
  auto& g = *impl_;
  {
    std::lock_guard lock(g.stop_mu);
    if (g.stopping) return;
    g.stopping = true;
  }
  if (g.started) g.notifier.stopping("stopping: draining queues");
  g.stop_cv.notify_all();
  // 1. Producers: no new messages. Undelivered MQTT messages stay queued in
  //    the broker for our persistent session.
  if (g.priority_subscriber) g.priority_subscriber->stop();
  if (g.subscriber) g.subscriber->stop();
  // The supervisor first: it may be applying a configuration that restarts CoAP.
  if (g.supervisor.joinable()) g.supervisor.join();
  // Scrapes end before anything they read goes away.
  if (g.prometheus) g.prometheus->stop();
  if (g.coap_thread.joinable()) g.coap_thread.join();
  // 2. Drain: workers finish every queued task, alerts included.
  for (auto& q : g.queues) q->close();
  for (auto& w : g.workers)
    if (w.joinable()) w.join();
  // 3. The uplink seals and commits what the workers forwarded.
  if (g.uplink) g.uplink->stop();
  // 4. Presence and the last metrics, then disconnect (waits for in-flight QoS 1).
  if (g.publisher) {
    if (g.started) {
      g.roll_wait_window();
      g.publish_metrics();
      (void)g.publisher->publish(g.status_topic(), status_json(g.config.gateway.id, "offline", "stopped", g.clock.wall_ms()), 1, true);
    }
    g.publisher->stop(3000);
  }
  if (g.started) g.log_summary();
  g.started = false;
}

}  // namespace foggate::gateway
