#include "ingress/mqtt_ingress.h"

#include <algorithm>

#include "foggate/base/log.h"
#include "foggate/message/topic.h"

namespace foggate::gateway {
namespace {

bool has_priority_lane(const IngestSection& in) {
  return std::any_of(in.mqtt.begin(), in.mqtt.end(), [](const MqttIngest& s) { return s.priority_lane; });
}

}  // namespace

protocols::MqttIngestOptions site_connection_options(const Config& cfg, const protocols::MqttOptions& site) {
  protocols::MqttIngestOptions o;
  o.uris = cfg.broker.uris;
  o.client_id = cfg.broker.client_id;
  o.version = cfg.broker.mqtt_version;
  o.keepalive_s = cfg.broker.keepalive_s;
  o.receive_maximum = static_cast<uint16_t>(cfg.broker.receive_maximum);
  o.max_packet_bytes = cfg.broker.max_packet_bytes;
  o.username = site.username;
  o.password = site.password;
  o.tls = site.tls;
  return o;
}

MqttIngress::MqttIngress(const Config& cfg, const protocols::MqttOptions& site, const LiveConfig& live, Ingest& ingest,
                         const Clock& clock, protocols::MqttPresence presence)
    : live_(live), ingest_(ingest), clock_(clock), memory_(cfg.gateway.data_dir) {
  const protocols::MqttIngestOptions sub = site_connection_options(cfg, site);
  protocols::MqttIngestOptions normal = sub;
  normal.presence = std::move(presence);
  // The priority lane reads whatever arrives at once: it is there for latency.
  normal.read_coalesce_us = cfg.broker.read_coalesce_us;
  normal_lane_.client = std::make_unique<protocols::MqttIngestConnection>(std::move(normal));
  if (has_priority_lane(cfg.ingest)) {
    protocols::MqttIngestOptions prio = sub;
    prio.client_id = cfg.broker.client_id + "-prio";
    prio.thread_name = "mqtt-ingest-pri";
    priority_lane_.client = std::make_unique<protocols::MqttIngestConnection>(prio);
    priority_lane_.client->on_ready([this] {
      priority_lane_.acknowledged = true;
      start_normal_lane();
    });
  }
  for (auto* lane : {&normal_lane_, &priority_lane_}) {
    if (!lane->client) continue;
    configure(*lane, lane_subscriptions(cfg.ingest, lane == &priority_lane_));
    lane->client->on_message([this, lane](const protocols::Publish& p, ReceiptPtr receipt, bool again) {
      return on_publish(*lane, p, std::move(receipt), again);
    });
    // Workers are woken once per chunk read, not per reading (on_publish
    // defers): one futex call where there were hundreds.
    lane->client->on_batch_end([this] { ingest_.wake_workers(); });
    // What an earlier run subscribed and this one does not is dropped from
    // the broker's session at the next connect.
    lane->client->forget_on_connect(memory_.last(lane->client->client_id()));
  }
}

void MqttIngress::configure(Lane& lane, std::vector<protocols::MqttSubscription> subs) {
  lane.filters.clear();
  for (const auto& s : subs) lane.filters.push_back(s.filter);
  lane.client->set_subscriptions(std::move(subs));
}

MqttIngress::~MqttIngress() { stop(); }

void MqttIngress::on_ready(std::function<void()> f) {
  normal_lane_.client->on_ready([this, f = std::move(f)] {
    normal_lane_.acknowledged = true;
    f();
  });
}

Result<void> MqttIngress::start() {
  if (!priority_lane_.client) return normal_lane_.client->start();
  // The priority lane first, and the normal lane once the priority lane's
  // subscriptions (and so the alarms its session queued) are in: a backlog
  // queued for the normal lane is read in milliseconds and would otherwise
  // race the alarms into the workers. A priority lane that cannot connect
  // holds the normal lane back for kNormalLaneWaitMs at most (tick()).
  normal_lane_deadline_ms_ = clock_.mono_ms() + kNormalLaneWaitMs;
  return priority_lane_.client->start();
}

void MqttIngress::start_normal_lane() {
  std::lock_guard lock(start_mu_);
  if (normal_started_ || stopped_) return;
  normal_started_ = true;
  if (auto r = normal_lane_.client->start(); !r)
    log::error("ingest-mqtt", "the normal lane cannot start", {{"detail", r.error().detail}});
}

void MqttIngress::pause() {
  {
    std::lock_guard lock(start_mu_);
    stopped_ = true;
  }
  if (priority_lane_.client) priority_lane_.client->pause();
  normal_lane_.client->pause();
}

void MqttIngress::stop() {
  pause();
  if (priority_lane_.client) priority_lane_.client->stop();
  normal_lane_.client->stop();
  // Subscriptions answered since the supervisor's last tick (a stop right
  // after start): recorded now, or the next run would not drop them.
  remember_acknowledged();
}

void MqttIngress::tick() {
  if (priority_lane_.client && clock_.mono_ms() >= normal_lane_deadline_ms_) start_normal_lane();
  remember_acknowledged();
}

void MqttIngress::remember_acknowledged() {
  for (auto* lane : {&normal_lane_, &priority_lane_}) {
    if (lane->client == nullptr) continue;
    if (lane->acknowledged.exchange(false)) (void)memory_.remember(lane->client->client_id(), lane->filters);
  }
}

bool MqttIngress::connected() const { return normal_lane_.client->connected(); }

void MqttIngress::set_filters(const IngestSection& in) {
  configure(normal_lane_, lane_subscriptions(in, false));
  if (priority_lane_.client)
    configure(priority_lane_, lane_subscriptions(in, true));
  else if (has_priority_lane(in))
    log::warn("ingest-mqtt", "the priority lane opens at the next restart; its filters use the normal connection until then");
}

void MqttIngress::renew_credentials(const protocols::MqttOptions& site) {
  for (auto* lane : {&normal_lane_, &priority_lane_})
    if (lane->client) lane->client->renew_credentials(site.username, site.password, site.tls);
}

// Without a priority connection every entry goes to the normal one.
std::vector<protocols::MqttSubscription> MqttIngress::lane_subscriptions(const IngestSection& in,
                                                                          bool priority_lane) const {
  const bool split = priority_lane_.client != nullptr;
  std::vector<protocols::MqttSubscription> subs;
  for (const auto& s : in.mqtt)
    if ((split && s.priority_lane) == priority_lane) subs.push_back({s.filter, s.qos});
  return subs;
}

protocols::Admission MqttIngress::on_publish(Lane& lane, const protocols::Publish& p, ReceiptPtr receipt, bool again) {
  using protocols::Admission;
  if (again && lane.parked) {
    // The connection disarmed the receipt it gave with the refused offer;
    // this offer's receipt is the one that acknowledges.
    lane.parked->receipt = std::move(receipt);
    if (ingest_.accept_again(std::move(*lane.parked), true).outcome == Ingest::Outcome::kOverloaded)
      return Admission::kFull;
    lane.parked.reset();
    return Admission::kTaken;
  }
  // A reading parked on a connection that dropped was never acknowledged:
  // the broker delivers it again.
  lane.parked.reset();
  const bool priority_lane = &lane == &priority_lane_;
  const auto cfg = live_.load();
  const MqttIngest* sub = nullptr;  // the first entry of this lane that matches
  for (const auto& s : cfg->ingest.mqtt) {
    if (!topic_matches(s.filter, p.topic)) continue;
    const bool on_priority = s.priority_lane && priority_lane_.client;
    if (on_priority && !priority_lane) {
      // The priority connection delivers this one too, ahead of any backlog.
      lane_duplicates_.add();
      return Admission::kTaken;
    }
    if (on_priority == priority_lane && sub == nullptr) sub = &s;
    // Only a priority lane needs the later entries (to spot duplicates).
    if (sub != nullptr && !priority_lane_.client) break;
  }
  Message m;
  m.source = Source::kMqtt;
  m.topic.assign(p.topic);
  m.payload.assign(p.payload);
  m.receipt = std::move(receipt);
  TopicCaptures cap;
  if (sub != nullptr && extract_topic(sub->pattern, m.topic, cap)) {
    m.device.assign(cap.device);
    m.metric.assign(cap.metric);
  } else {
    // Still tracked per topic, so nothing is lost; the counter tells the
    // operator the pattern needs a look.
    m.device = m.topic;
    ingest_.note_pattern_mismatch(Source::kMqtt);
    if (!pattern_mismatch_logged_.exchange(true, std::memory_order_relaxed))
      log::warn("ingest-mqtt", "topic does not fit the subscription pattern; the topic is used as device id",
                {{"topic", m.topic}});
  }
  m.format = sub != nullptr ? sub->format : PayloadFormat::kAuto;
  // QoS 0: a full queue sheds by priority (tasks_shed_total). QoS 1: the
  // reading waits for room; the broker holds the rest.
  const auto when_full = p.qos == 1 ? Ingest::WhenFull::kWait : Ingest::WhenFull::kShed;
  if (ingest_.accept(std::move(m), when_full, true).outcome != Ingest::Outcome::kOverloaded) return Admission::kTaken;
  lane.parked = std::move(m);
  return Admission::kFull;
}

void MqttIngress::collect(MetricSink& out) const {
  out.push_back({"mqtt_lane_duplicates_total", {}, static_cast<double>(lane_duplicates_.value())});
  normal_lane_.client->collect(out, "ingest");
  if (priority_lane_.client) priority_lane_.client->collect(out, "ingest-priority");
}

}  // namespace foggate::gateway
