#include "workers/worker_pool.h"

#include <chrono>

#include "alarms/alarm_service.h"
#include "documents.h"
#include "foggate/base/log.h"
#include "foggate/base/this_thread.h"
#include "ingress/ingest.h"

namespace foggate::gateway {
namespace {

constexpr std::array<std::string_view, 3> kSeverities{"critical", "warning", "info"};

}  // namespace

void AlertPublisher::publish(const routing::Alert& a) {
  const auto cfg = live_.load();
  auto r = link_.publish(alert_topic(gateway_id_, a), alert_json(gateway_id_, a), cfg->alerts.qos, cfg->alerts.retain);
  if (r) {
    published_.add();
    for (std::size_t i = 0; i < kSeverities.size(); ++i)
      if (a.severity == kSeverities[i]) by_severity_[i].add();
  } else {
    failed_.add();
    log::warn_once("alerts", "publish_failed", "alert could not be queued for publishing", {{"detail", r.error().detail}});
  }
}

void AlertPublisher::collect(MetricSink& out) const {
  out.push_back({"alerts_published_total", {}, static_cast<double>(published_.value())});
  out.push_back({"alerts_failed_total", {}, static_cast<double>(failed_.value())});
  for (std::size_t i = 0; i < kSeverities.size(); ++i)
    out.push_back({"alerts_by_severity_total", {{"severity", std::string(kSeverities[i])}},
                   static_cast<double>(by_severity_[i].value())});
}

WorkerPool::WorkerPool(const GatewaySection& gw, const Clock& clock, AlertPublisher& alerts, int64_t watch_interval_ms)
    : gw_(gw), clock_(clock), alerts_(alerts),
      progress_(std::make_unique<std::atomic<uint64_t>[]>(static_cast<std::size_t>(gw.workers))),
      watch_(static_cast<std::size_t>(gw.workers), watch_interval_ms) {
  const routing::TaskQueueOptions options{.capacity = gw.queue_capacity,
                                          .critical_overflow = std::max<std::size_t>(gw.queue_capacity / 4, 16)};
  for (int i = 0; i < gw.workers; ++i) queues_.push_back(std::make_unique<routing::TaskQueue>(options, clock));
}

WorkerPool::~WorkerPool() { close_and_join(); }

void WorkerPool::start(std::vector<routing::DetectorSpec> detectors) {
  detector_specs_.store(std::make_shared<const std::vector<routing::DetectorSpec>>(std::move(detectors)));
  for (std::size_t i = 0; i < queues_.size(); ++i) threads_.emplace_back([this, i] { run(i); });
}

void WorkerPool::close_and_join() {
  for (auto& q : queues_) q->close();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::set_detectors(std::vector<routing::DetectorSpec> detectors) {
  detector_specs_.store(std::make_shared<const std::vector<routing::DetectorSpec>>(std::move(detectors)));
  ++detector_generation_;
}

void WorkerPool::run(std::size_t index) {
  name_this_thread("worker-" + std::to_string(index));
  uint64_t generation = detector_generation_.load();
  // The cap is the gateway's; devices are spread over the workers by a
  // hash, never exactly evenly, so each worker may keep a quarter (and 16)
  // more than its share: no worker evicts before the gateway holds the cap.
  const std::size_t share = (gw_.max_tracked_devices + queues_.size() - 1) / queues_.size();
  const std::size_t cap = queues_.size() == 1 ? share : share + share / 4 + 16;
  routing::DetectorBank bank(detector_specs_.load(), clock_, detector_stats_, cap);
  bank.set_seen_board(alarms_.seen);
  for (const auto& a : alarms_.active)
    if (worker_for(a.device, queues_.size()) == index) bank.restore_alarmed(a.detector, a.device, a.limit);
  std::vector<routing::Alert> alerts;
  auto& queue = *queues_[index];
  auto& progress = progress_[index];
  while (auto task = queue.pop()) {
    progress.fetch_add(1, std::memory_order_relaxed);
    const auto task_start = std::chrono::steady_clock::now();
    try {
      if (const uint64_t g = detector_generation_.load(); g != generation) {
        generation = g;
        bank.set_specs(detector_specs_.load());
      }
      if (task->kind == routing::TaskKind::kDetect) {
        alerts.clear();
        bank.evaluate(*task->message, alerts);
        for (const auto& a : alerts) publish(a, task->message);
      } else if (task->kind == routing::TaskKind::kForward) {
        forward_sink_.load()->forward(std::move(task->message), task->priority, 0);
      }
    } catch (const std::exception& e) {
      // Only allocation failure can throw here; keep the worker alive.
      worker_errors_.add();
      log::warn_once("worker", "task_failed", "task failed; dropped and counted", {{"what", e.what()}});
    }
    // Feeds the queue's wait estimate (routing under load).
    queue.record_service_us(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - task_start).count());
  }
}

// With alarms on, the alarm book decides which events go out (shelving,
// flood control; applied on this thread) and the alarm thread holds the
// reading until the alarm state is durable.
void WorkerPool::publish(const routing::Alert& a, const std::shared_ptr<const Message>& reading) {
  if (alarms_.sink == nullptr) return alerts_.publish(a);
  if (alarms_.sink->submit(a, reading)) return;
  alarm_refused_.add();
  log::warn_once("alarms", "inbox_full", "alarm inbox full; alert published without alarm state");
  alerts_.publish(a);
}

void WorkerPool::roll_wait_window() {
  routing::WaitHistogram::Counts now{};
  for (const auto& q : queues_) {
    const auto c = q->stats().wait.snapshot();
    for (std::size_t i = 0; i < now.size(); ++i) now[i] += c[i];
  }
  wait_p50_ms_ = routing::WaitHistogram::quantile_ms(now, wait_window_start_, 0.5);
  wait_p99_ms_ = routing::WaitHistogram::quantile_ms(now, wait_window_start_, 0.99);
  wait_window_start_ = now;
}

bool WorkerPool::workers_alive(int64_t now_ms) {
  bool alive = true;
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    if (watch_.observe(i, progress_[i].load(std::memory_order_relaxed), queues_[i]->size(), now_ms)) continue;
    alive = false;
    if (!stuck_logged_) {
      stuck_logged_ = true;
      log::error("gateway", "worker stuck with tasks queued; the systemd watchdog is no longer fed",
                 {{"worker", std::to_string(i)}, {"queued", std::to_string(queues_[i]->size())},
                  {"stalled_ms", std::to_string(watch_.stalled_ms(i, now_ms))}});
    }
  }
  if (alive) stuck_logged_ = false;
  return alive;
}

std::size_t WorkerPool::queued() const {
  std::size_t n = 0;
  for (const auto& q : queues_) n += q->size();
  return n;
}

uint64_t WorkerPool::shed() const {
  uint64_t n = 0;
  for (const auto& q : queues_) n += q->stats().shed_total();
  return n;
}

void WorkerPool::collect(MetricSink& out) const {
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    queues_[i]->stats().collect(out, std::to_string(i));
    out.push_back({"queue_depth", {{"queue", std::to_string(i)}}, static_cast<double>(queues_[i]->size())});
  }
  detector_stats_.collect(out);
  alerts_.collect(out);
  out.push_back({"task_wait_p50_ms", {}, static_cast<double>(wait_p50_ms_.load())});
  out.push_back({"task_wait_p99_ms", {}, static_cast<double>(wait_p99_ms_.load())});
  out.push_back({"worker_errors_total", {}, static_cast<double>(worker_errors_.value())});
  if (alarms_.sink != nullptr)
    out.push_back({"alarm_alerts_unlisted_total", {}, static_cast<double>(alarm_refused_.value())});
}

}  // namespace foggate::gateway
